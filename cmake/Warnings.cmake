# All warning flags live here, so that every target gets the same set.
option(KSALLOC_WERROR "Treat warnings as errors" OFF)

# -Wno-unused-parameter: callbacks with fixed signatures (libuv, protobuf-c,
# COM vtables) take parameters they do not need; systemd builds the same way.
add_compile_options(
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
	-Wformat=2 -Wimplicit-fallthrough -Wvla -Wno-unused-parameter)
if(KSALLOC_WERROR)
	add_compile_options(-Werror)
endif()
