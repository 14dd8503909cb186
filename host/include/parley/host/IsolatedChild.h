//
// IsolatedChild.h — the hidden mode of parley-host that runs the chains of isolated routes
// (route.<path>.isolate = process) for the host that started it.
//
#ifndef PARLEY_HOST_ISOLATEDCHILD_INCLUDED
#define PARLEY_HOST_ISOLATEDCHILD_INCLUDED

namespace parley {
namespace host {

/// True if the arguments ask for the isolated-child mode (argv[1] is --isolated-child=FD).
bool isIsolatedChild(int argc, char** argv);

/// Runs an isolated child: `--isolated-child=FD --parent=PID` (what IsolatedPool passes).
/// Dies with its parent (PR_SET_PDEATHSIG); reads the host's frames from FD, builds the chains it
/// is sent (loading their plugin files), runs the messages and writes the outcomes back. Returns
/// the process's exit status when the host closes the socket.
int runIsolatedChild(int argc, char** argv);

} // namespace host
} // namespace parley

#endif
