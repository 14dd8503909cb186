//
// TestCertificates.h — a throwaway certificate authority and server certificates, made with the
// `openssl` command the first time a test asks for them (EC P-256, valid for two days).
//
#ifndef PARLEY_TESTS_TESTCERTIFICATES_INCLUDED
#define PARLEY_TESTS_TESTCERTIFICATES_INCLUDED

#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace parley {
namespace test {

/// The files live in one temporary folder for the test process's life.
class TestCertificates
{
public:
	/// The shared set (made on first use; throws std::runtime_error if `openssl` fails).
	static const TestCertificates& get()
	{
		static const TestCertificates instance;
		return instance;
	}

	std::string caFile() const { return _dir + "ca.pem"; }          ///< the test CA's certificate
	std::string certFile() const { return _dir + "cert.pem"; }      ///< server: CN=localhost, SAN IP:127.0.0.1, DNS:localhost
	std::string keyFile() const { return _dir + "key.pem"; }        ///< its private key
	std::string otherKeyFile() const { return _dir + "other.key"; } ///< a key that matches no certificate here
	std::string garbageFile() const { return _dir + "garbage.pem"; } ///< not PEM at all
	std::string dir() const { return _dir; }

private:
	TestCertificates()
	{
		Poco::Path path(Poco::TemporaryFile::tempName());
		path.makeDirectory();
		Poco::File(path).createDirectories();
		_dir = path.toString();
		{
			std::ofstream ext(_dir + "ext.cnf");
			ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
				   "extendedKeyUsage=serverAuth\n";
			std::ofstream garbage(garbageFile());
			garbage << "this is not a certificate\n";
		}
		const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
		run("openssl req -x509 " + ec + " -keyout ca.key -out ca.pem -days 2 -subj '/CN=Parley Test CA'");
		run("openssl req " + ec + " -keyout key.pem -out req.csr -subj '/CN=localhost'");
		run("openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 -extfile ext.cnf");
		run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out other.key");
	}

	~TestCertificates()
	{
		try
		{
			Poco::File(_dir).remove(true);
		}
		catch (...)
		{
		}
	}

	void run(const std::string& command) const
	{
		const std::string full = "cd '" + _dir + "' && " + command + " >/dev/null 2>&1";
		if (std::system(full.c_str()) != 0) throw std::runtime_error("test certificates: failed: " + command);
	}

	std::string _dir;
};

} // namespace test
} // namespace parley

#endif
