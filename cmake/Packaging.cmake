# The Debian packages (cpack -G DEB in a build tree; scripts/package.sh builds them from scratch).
#
#   parley-host  the host and the console client, the bundled plugins under
#                /usr/lib/parley/plugins, the configuration in /etc/parley (conffiles), the systemd
#                unit in /lib/systemd/system, and the plugin SDK (headers, parley-core, CMake
#                package, plugin template); no GUI libraries, for servers
#   parley-gui   the desktop client (wxWidgets); depends on parley-host, whose binary its local
#                host panel starts
#
# Files only the packages have (absolute /etc, /lib/systemd, the doc folders) are installed by
# components "deb" and "deb-gui", which a plain `cmake --install` skips (EXCLUDE_FROM_ALL); the
# packages in turn leave out component "etc", the configuration installed under <prefix>/etc for a
# plain install. Included last from the top-level CMakeLists.txt, so that every component exists.

set(PARLEY_DEB_RELEASE 1)
set(PARLEY_DEB_SOURCE "${CMAKE_SOURCE_DIR}/packaging/debian")
set(PARLEY_DEB_CONTACT "Parley maintainers <maintainers@users.noreply.r-seed-eb5d40d9.example>")

# The changelog's newest entry must be this version: lintian and apt show both.
file(STRINGS "${PARLEY_DEB_SOURCE}/changelog" deb_changelog_head LIMIT_COUNT 1)
set(PARLEY_DEB_VERSION "${PROJECT_VERSION}-${PARLEY_DEB_RELEASE}")
if(NOT deb_changelog_head MATCHES "^parley-host \\(${PARLEY_DEB_VERSION}\\) ")
  message(FATAL_ERROR "packaging/debian/changelog: the first entry must be 'parley-host (${PARLEY_DEB_VERSION})', "
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
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/parley-host COMPONENT deb EXCLUDE_FROM_ALL)
if(TARGET parley-gui)
  install(FILES "${PARLEY_DEB_SOURCE}/copyright" "${deb_changelog_gz}"
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/parley-gui COMPONENT deb-gui EXCLUDE_FROM_ALL)
endif()

# Every component but "etc" goes into a package; one that is in neither group below (a new
# install rule with a component of its own) would come out as a package of its own, which
# scripts/test-package.sh refuses.
get_cmake_property(deb_components COMPONENTS)
list(APPEND deb_components deb)
if(TARGET parley-gui)
  list(APPEND deb_components deb-gui)
endif()
list(REMOVE_ITEM deb_components etc)
list(REMOVE_DUPLICATES deb_components)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME parley)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Parley")
set(CPACK_PACKAGE_CONTACT "${PARLEY_DEB_CONTACT}")
set(CPACK_PACKAGE_DIRECTORY "${CMAKE_BINARY_DIR}/package")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_COMPONENTS_ALL ${deb_components})

set(CPACK_DEBIAN_PACKAGE_RELEASE ${PARLEY_DEB_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SOURCE parley-host)
# Library dependencies from dpkg-shlibdeps (dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# parley-host: everything without a component of its own, and the package-only files.
set(CPACK_DEBIAN_HOST_PACKAGE_NAME parley-host)
set(CPACK_DEBIAN_HOST_PACKAGE_DEPENDS "adduser")  # the postinst creates the service user
set(CPACK_DEBIAN_HOST_DESCRIPTION "plugin-based WebSocket message engine
Parley passes every WebSocket message through a chain of responder plugins
loaded from shared libraries. This package holds the host (parley-host, run by
systemd as parley-host.service), the console client (parley-client), the
bundled plugins, and the SDK to build more plugins.")
set(CPACK_DEBIAN_HOST_PACKAGE_CONTROL_EXTRA
  "${PARLEY_DEB_SOURCE}/postinst" "${PARLEY_DEB_SOURCE}/prerm" "${PARLEY_DEB_SOURCE}/postrm"
  "${PARLEY_DEB_SOURCE}/conffiles")
# parley-gui: the desktop client and the GUI libraries it needs.
set(CPACK_DEBIAN_GUI_PACKAGE_NAME parley-gui)
set(CPACK_DEBIAN_GUI_PACKAGE_DEPENDS "parley-host (= ${PARLEY_DEB_VERSION})")
set(CPACK_DEBIAN_GUI_PACKAGE_SECTION net)
set(CPACK_DEBIAN_GUI_DESCRIPTION "desktop client of the Parley WebSocket message engine
A wxWidgets client for Parley: sends messages and load runs over WebSocket
(ws:// and wss://), shows every reply, and starts and stops a local
parley-host.")

include(CPack)
cpack_add_component_group(host)
cpack_add_component_group(gui)
foreach(component IN LISTS deb_components)
  if(component STREQUAL "gui" OR component STREQUAL "deb-gui")
    cpack_add_component(${component} GROUP gui)
  else()
    cpack_add_component(${component} GROUP host)
  endif()
endforeach()
