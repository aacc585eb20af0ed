# Fails the build when a file includes across a layer (DESIGN.md, "Layering"):
#   storage knows no sockets and no protobuf; rpc knows no libuv and no socket
#   code; only transport (and main.c, which wires the loop) includes uv.h;
#   the client library never includes daemon code.
# Run as: cmake -DSOURCE_DIR=... -DSTAMP=... -P CheckLayering.cmake

set(storage access.h access.c backend.h backend.c backend-memfd.c pool.h pool.c storage.h storage.c)
set(rpc rpc.h rpc.c)
set(daemon_headers backend.h config.h log.h pool.h rpc.h server.h session.h storage.h)

set(errors "")
# A function, not a macro: macro arguments are pasted as text and would undo the escaping.
function(forbid file pattern why)
	file(STRINGS "${file}" hits REGEX "^#[ \t]*include[ \t]*[<\"](${pattern})[>\"]")
	if(hits)
		set(errors "${errors}  ${file}: ${hits}: ${why}\n" PARENT_SCOPE)
	endif()
endfunction()

foreach(f ${storage})
	forbid("${SOURCE_DIR}/daemon/${f}" "uv\\.h|sys/socket\\.h|protobuf-c/.*|.*pb-c\\.h|protocol\\.h|wire\\.h|rpc\\.h|server\\.h|session\\.h"
		"storage knows no sockets and no protobuf")
endforeach()
foreach(f ${rpc})
	forbid("${SOURCE_DIR}/daemon/${f}" "uv\\.h|sys/socket\\.h|wire\\.h|server\\.h|session\\.h"
		"rpc knows no libuv and makes no socket calls")
endforeach()
file(GLOB daemon_sources "${SOURCE_DIR}/daemon/*.[ch]" "${SOURCE_DIR}/proto/*.[ch]")
foreach(f ${daemon_sources})
	get_filename_component(name "${f}" NAME)
	if(NOT name MATCHES "^(server|session)\\.[ch]$|^main\\.c$")
		forbid("${f}" "uv\\.h" "only transport includes uv.h")
	endif()
endforeach()
string(REPLACE ";" "|" daemon_pattern "${daemon_headers}")
string(REPLACE "." "\\." daemon_pattern "${daemon_pattern}")
file(GLOB_RECURSE client_sources "${SOURCE_DIR}/client/*.[ch]")
foreach(f ${client_sources})
	forbid("${f}" "uv\\.h|${daemon_pattern}" "the client library never includes daemon code")
endforeach()

if(errors)
	message(FATAL_ERROR "layering violations:\n${errors}")
endif()
file(TOUCH "${STAMP}")
