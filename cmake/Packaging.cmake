# CPack: `cpack -G DEB` in a build configured with -DCMAKE_INSTALL_PREFIX=/usr
# makes ksalloc_<version>-1_<arch>.deb (scripts/package does both). Everything
# goes into one package: daemon, CLI, library, headers, units, man pages, the
# GStreamer plugin.
#
# The paths inside the package are the install paths the build was configured
# with (GNUInstallDirs: multiarch LIBDIR, /etc for prefix /usr, the units'
# ExecStart), so the package is built at prefix /usr and nowhere else:
# CPackProjectConfig.cmake stops cpack -G DEB in a build of another prefix.

set(CPACK_PACKAGE_NAME ksalloc)
set(CPACK_PACKAGE_VENDOR "ksalloc")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
	"Kernel Streaming frame allocator service for Linux media processes")
set(CPACK_PACKAGE_DESCRIPTION
	"ksallocd owns frame pools in sealed shared memory and serves them to local media
processes, which open a pool by name and acquire and release frames zero-copy.
libksalloc.so.1 is the client library, with the Windows KS-compatible
<ksalloc/ksproxy.h> (IKsAllocator, KsGetAllocatorStatus) and the native
<ksalloc/ksalloc.h>. ksallocctl shows the pools and who holds their frames.
The GStreamer plugin's ksallocsink and ksallocsrc move video between
processes through them without a copy.
The daemon runs sandboxed as user ksalloc, socket-activated by systemd.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(KSALLOC_PACKAGE_MAINTAINER "ksalloc developers <ksalloc@localhost>"
	CACHE STRING "Maintainer field of the .deb")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${KSALLOC_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: the shared libraries the binaries link (libuv1, libprotobuf-c1,
# libsystemd0, libinih1, libjson-c5, libc6), as dpkg-shlibdeps computes them;
# systemd for the units, sysusers and tmpfiles that postinst runs.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")
# A shlibs file, so packages linking libksalloc.so.1 get "Depends: ksalloc".
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")

# Maintainer scripts, and conffiles: dpkg keeps an administrator's edits of
# the config across upgrades and asks before replacing them.
set(_debian ${PROJECT_BINARY_DIR}/debian)
foreach(_script postinst prerm postrm)
	configure_file(${CMAKE_CURRENT_LIST_DIR}/debian/${_script}.in ${_debian}/${_script}
		@ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
		GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
file(WRITE ${_debian}/conffiles "${KSALLOC_CONFIG_FILE}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
	${_debian}/conffiles ${_debian}/postinst ${_debian}/prerm ${_debian}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

configure_file(${CMAKE_CURRENT_LIST_DIR}/CPackProjectConfig.cmake.in
	${PROJECT_BINARY_DIR}/CPackProjectConfig.cmake @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_BINARY_DIR}/CPackProjectConfig.cmake)

include(CPack)
