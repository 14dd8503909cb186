# The Debian package (cpack -G DEB in a build tree; scripts/package.sh builds one from scratch).
#
# One package, parley-host: the three programs, the bundled plugins under /usr/lib/parley/plugins,
# the configuration in /etc/parley (conffiles), the systemd unit in /lib/systemd/system, and the
# plugin SDK (headers, parley-core, CMake package, plugin template).
#
# Files only the package has (absolute /etc, /lib/systemd) are installed by component "deb", which
# a plain `cmake --install` skips (EXCLUDE_FROM_ALL); the package in turn leaves out component
# "etc", the configuration installed under <prefix>/etc for a plain install. Included last from
# the top-level CMakeLists.txt, so that every component exists already.

set(PARLEY_DEB_NAME parley-host)
set(PARLEY_DEB_RELEASE 1)
set(PARLEY_DEB_SOURCE "${CMAKE_SOURCE_DIR}/packaging/debian")

# The changelog's newest entry must be this version: lintian and apt show both.
file(STRINGS "${PARLEY_DEB_SOURCE}/changelog" deb_changelog_head LIMIT_COUNT 1)
set(deb_version "${PROJECT_VERSION}-${PARLEY_DEB_RELEASE}")
if(NOT deb_changelog_head MATCHES "^${PARLEY_DEB_NAME} \\(${deb_version}\\) ")
  message(FATAL_ERROR "packaging/debian/changelog: the first entry must be '${PARLEY_DEB_NAME} (${deb_version})', "
    "it is '${deb_changelog_head}'")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${PARLEY_DEB_SOURCE}/changelog")
set(deb_changelog_gz "${CMAKE_BINARY_DIR}/packaging/changelog.Debian.gz")
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/packaging")
execute_process(COMMAND gzip -9nc "${PARLEY_DEB_SOURCE}/changelog"
  OUTPUT_FILE "${deb_changelog_gz}" RESULT_VARIABLE gzip_result)
if(NOT gzip_result EQUAL 0)
  message(FATAL_ERROR "gzip of packaging/debian/changelog failed: ${gzip_result}")
endif()

install(FILES etc/parley-host.properties etc/parley-client.properties
  DESTINATION /etc/parley COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES etc/systemd/parley-host.service
  DESTINATION /lib/systemd/system COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES "${PARLEY_DEB_SOURCE}/copyright" "${deb_changelog_gz}" README.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${PARLEY_DEB_NAME} COMPONENT deb EXCLUDE_FROM_ALL)

get_cmake_property(deb_components COMPONENTS)
list(REMOVE_ITEM deb_components etc)
list(APPEND deb_components deb)
list(REMOVE_DUPLICATES deb_components)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ${PARLEY_DEB_NAME})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Parley")
set(CPACK_PACKAGE_CONTACT "Parley maintainers <maintainers@users.noreply.r-seed-eb5d40d9.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "plugin-based WebSocket message engine")
set(CPACK_PACKAGE_DESCRIPTION "Parley passes every WebSocket message through a chain of responder plugins
loaded from shared libraries. This package holds the host (parley-host, run by
systemd as parley-host.service), a console client (parley-client), a desktop
client (parley-gui), the bundled plugins, and the SDK to build more plugins.")
set(CPACK_PACKAGE_DIRECTORY "${CMAKE_BINARY_DIR}/package")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL ${deb_components})

set(CPACK_DEBIAN_PACKAGE_NAME ${PARLEY_DEB_NAME})
set(CPACK_DEBIAN_PACKAGE_RELEASE ${PARLEY_DEB_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from dpkg-shlibdeps (dpkg-dev); adduser for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${PARLEY_DEB_SOURCE}/postinst" "${PARLEY_DEB_SOURCE}/prerm" "${PARLEY_DEB_SOURCE}/postrm"
  "${PARLEY_DEB_SOURCE}/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
