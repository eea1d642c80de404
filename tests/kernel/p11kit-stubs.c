// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Link-time stand-ins for p11-kit, for the static tcpfsm of `make kernel-test`
 * only. Debian ships libgnutls.a (pulled in by libmicrohttpd.a) but no
 * libp11-kit.a. tcpfsm serves plain HTTP and never touches a PKCS#11 token,
 * so none of these is reachable; if one ever is, it says so and aborts rather
 * than pretend to work.
 */
#include <stdio.h>
#include <stdlib.h>

#define STUB(name)                                                                             \
	void *name(void);                                                                      \
	void *name(void)                                                                       \
	{                                                                                      \
		fprintf(stderr, "tcpfsm (static test build): %s called: no p11-kit\n", #name); \
		abort();                                                                       \
	}

STUB(p11_kit_config_option)
STUB(p11_kit_message)
STUB(p11_kit_module_finalize)
STUB(p11_kit_module_get_flags)
STUB(p11_kit_module_get_name)
STUB(p11_kit_module_load)
STUB(p11_kit_module_release)
STUB(p11_kit_modules_load)
STUB(p11_kit_pin_file_callback)
STUB(p11_kit_pin_get_length)
STUB(p11_kit_pin_get_value)
STUB(p11_kit_pin_new_for_string)
STUB(p11_kit_pin_register_callback)
STUB(p11_kit_pin_request)
STUB(p11_kit_pin_unref)
STUB(p11_kit_pin_unregister_callback)
STUB(p11_kit_space_strdup)
STUB(p11_kit_space_strlen)
STUB(p11_kit_strerror)
STUB(p11_kit_uri_format)
STUB(p11_kit_uri_free)
STUB(p11_kit_uri_get_attribute)
STUB(p11_kit_uri_get_attributes)
STUB(p11_kit_uri_get_module_info)
STUB(p11_kit_uri_get_pin_source)
STUB(p11_kit_uri_get_pin_value)
STUB(p11_kit_uri_get_token_info)
STUB(p11_kit_uri_match_module_info)
STUB(p11_kit_uri_match_token_info)
STUB(p11_kit_uri_new)
STUB(p11_kit_uri_parse)
STUB(p11_kit_uri_set_attribute)
