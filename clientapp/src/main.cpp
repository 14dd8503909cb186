//
// main.cpp — parley-client entry point.
//
#include "ClientApp.h"
#include <csignal>

int main(int argc, char** argv)
{
	std::signal(SIGPIPE, SIG_IGN);
	parley::clientapp::ClientApp app;
	if (!app.parse(argc, argv))
		return parley::clientapp::ClientApp::ExitUsage;
	return app.run();
}
