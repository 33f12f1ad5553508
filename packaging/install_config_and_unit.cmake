# Run by `cmake --install` (packaging/CMakeLists.txt sets the ROENTGEN_*
# variables before it): writes the systemd unit for the prefix being
# installed into, and installs the config unless one is already there (an
# operator's edits survive an upgrade; the sample is always in the docs).

# `dir` made absolute under the prefix given to `cmake --install`.
function(roentgen_full_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

roentgen_full_dir(bindir "${ROENTGEN_INSTALL_BINDIR}")
# As GNUInstallDirs does for the prefix /usr: the config goes in /etc.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr" AND ROENTGEN_INSTALL_SYSCONFDIR STREQUAL "etc")
  set(confdir "/etc/roentgen")
else()
  roentgen_full_dir(confdir "${ROENTGEN_INSTALL_SYSCONFDIR}/roentgen")
endif()
roentgen_full_dir(ROENTGEN_DOCDIR "${ROENTGEN_INSTALL_DOCDIR}")
set(ROENTGEN_BIN "${bindir}/roentgen")
set(ROENTGEN_CONFIG "${confdir}/roentgen.toml")

configure_file("${ROENTGEN_PACKAGING_SOURCE}/roentgen.service.in"
               "${ROENTGEN_PACKAGING_BINARY}/roentgen.service" @ONLY)
file(INSTALL "${ROENTGEN_PACKAGING_BINARY}/roentgen.service"
     DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")

if(EXISTS "$ENV{DESTDIR}${ROENTGEN_CONFIG}")
  message(STATUS "Keeping: $ENV{DESTDIR}${ROENTGEN_CONFIG} (the sample is in ${ROENTGEN_DOCDIR})")
else()
  file(INSTALL "${ROENTGEN_PACKAGING_SOURCE}/roentgen.toml" DESTINATION "${confdir}")
endif()
