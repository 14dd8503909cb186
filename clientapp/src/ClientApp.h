//
// ClientApp.h — parley-client: the verified load exchange (LoadRun) or an interactive session.
//
#ifndef PARLEY_CLIENTAPP_CLIENTAPP_INCLUDED
#define PARLEY_CLIENTAPP_CLIENTAPP_INCLUDED

#include <Poco/Util/Application.h>
#include <string>
#include <utility>
#include <vector>

namespace parley {
namespace clientapp {

class ClientSettings;

class ClientApp : public Poco::Util::Application
{
public:
	/// Exit codes: 0 every message verified; 1 the run failed (connection refused, server closed
	/// early, mismatched or missing replies); 2 bad usage, configuration or URL.
	enum ExitCode { ExitOk = 0, ExitFailed = 1, ExitUsage = 2 };

	ClientApp();

	/// Parses the command line like Application::init(), but prints a bad option as one line
	/// on stderr; returns false (exit code 2) then.
	bool parse(int argc, char** argv);

protected:
	void defineOptions(Poco::Util::OptionSet& options) override;
	void handleOption(const std::string& name, const std::string& value) override;
	int main(const std::vector<std::string>& args) override;

private:
	void printHelp();
	int runLoad();
	/// Fills settings from --config and the command-line options; throws std::exception (one
	/// line) for a bad value or URL.
	void readSettings(ClientSettings& settings) const;

	bool _help = false;
	bool _interactive = false;
	bool _quiet = false;
	std::string _configFile;
	std::vector<std::pair<std::string, std::string>> _overrides;  // key, value from the command line
};

} // namespace clientapp
} // namespace parley

#endif
