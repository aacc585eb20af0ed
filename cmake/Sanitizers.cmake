# KSALLOC_SANITIZE takes a ;-list of sanitizers, e.g. "address;undefined" or "thread".
set(KSALLOC_SANITIZE "" CACHE STRING "Sanitizers to build with (address;undefined or thread)")

if(KSALLOC_SANITIZE)
	string(REPLACE ";" "," _ksalloc_san "${KSALLOC_SANITIZE}")
	add_compile_options(-fsanitize=${_ksalloc_san} -fno-omit-frame-pointer
		-fno-sanitize-recover=all)
	add_link_options(-fsanitize=${_ksalloc_san})
endif()
