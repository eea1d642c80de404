// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every sentence of an alert, from hand-made alerts: each state's
 * diagnosis firing and resolved, "at least" ages, evidence, the clause
 * about the peer, and the rate limit's summary lines.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "pure/diagnosis.h"
#include "support.h"

#define SEC 1000000000ULL
#define MS 1000000ULL

static const char GONE[] = "the request is gone (expired or reset)";

static void test_diagnose_sentences(void **unused)
{
	struct alert a;

	a = alert_of_java(SYN_SENT, ALERT_FIRING, 5 * SEC);
	a.syn_retrans = 2;
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "SYN_SENT for 5.00s, 2 SYN retransmits, no answer: the "
					 "SYN or the SYN/ACK is being dropped on the way");
	a.syn_retrans = 1;
	alert_diagnose(&a, "");
	assert_string_equal(a.diagnosis, "SYN_SENT for 5.00s, 1 SYN retransmit, no answer: the "
					 "SYN or the SYN/ACK is being dropped on the way");
	a.evidence = TCPFSM_EV_ICMP;
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "SYN_SENT for 5.00s, 1 SYN retransmit, ICMP errors: a "
					 "router or the peer rejects the SYN");
	a.evidence = 0;
	alert_diagnose(&a, "the peer only LISTENs: the SYN never arrived");
	assert_string_equal(a.diagnosis,
			    "SYN_SENT for 5.00s, 1 SYN retransmit, no answer: the SYN or the "
			    "SYN/ACK is being dropped on the way; the peer only LISTENs: the SYN "
			    "never arrived");
	a.age_at_least = true;
	a.syn_retrans = 0;
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "SYN_SENT for at least 5.00s, 0 SYN retransmits, no "
					 "answer: the SYN or the SYN/ACK is being dropped on the way");

	a = alert_of_java(CLOSE_WAIT, ALERT_FIRING, 61 * SEC);
	a.fd = 7;
	a.ino = 5555;
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "CLOSE_WAIT for 1m01s: the peer closed 1m01s ago; "
					 "process 1234 (java) has not called close() (fd 7, "
					 "socket inode 5555)");
	a.fd = -1;
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "CLOSE_WAIT for 1m01s: the peer closed 1m01s ago; "
					 "process 1234 (java) has not called close() (socket "
					 "inode 5555)");
	a.ino = 0;
	a.owner = false;
	a.age_at_least = true;
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "CLOSE_WAIT for at least 1m01s: the peer closed at least "
					 "1m01s ago; the owner has not called close()");

	a = alert_of_java(LAST_ACK, ALERT_FIRING, 30 * SEC);
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "LAST_ACK for 30.0s: both sides closed, our FIN is not "
					 "acknowledged: the peer is gone or the path drops packets");
	a = alert_of_java(FIN_WAIT1, ALERT_FIRING, 45 * SEC);
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "FIN_WAIT1 for 45.0s: our FIN is not acknowledged: the "
					 "peer is unreachable, or it does not read and its window "
					 "is closed");
	a = alert_of_java(FIN_WAIT2, ALERT_FIRING, 3600 * SEC);
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "FIN_WAIT2 for 1h00m: the peer acknowledged our FIN but "
					 "has not closed its side: the peer application has not "
					 "called close()");
	a = alert_of_java(CLOSING, ALERT_FIRING, 31 * SEC);
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "CLOSING for 31.0s: both sides closed at once and the "
					 "last ACK is missing");
	a = alert_of_java(SYN_RECV, ALERT_FIRING, 4 * SEC);
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "SYN_RECV for 4.00s: the handshake's last ACK does not "
					 "arrive");
	a = alert_of_java(ESTABLISHED, ALERT_FIRING, 7200 * SEC);
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "ESTABLISHED for 2h00m: open longer than the threshold");

	/* half-open requests */
	a = alert_of_java(SYN_RECV, ALERT_FIRING, 4 * SEC);
	a.half_open = true;
	a.syn_retrans = 3;
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "half-open for 4.00s, 3 SYN/ACK retransmits: the SYN/ACK "
					 "is not answered by the client");
	a.syn_retrans = 1;
	a.age_at_least = true;
	alert_diagnose(&a, "the client is in SYN_SENT: the SYN/ACK does not reach it");
	assert_string_equal(a.diagnosis, "half-open for at least 4.00s, 1 SYN/ACK retransmit: the "
					 "client is in SYN_SENT: the SYN/ACK does not reach it");

	/* resolved */
	a = alert_of_java(CLOSE_WAIT, ALERT_RESOLVED, 125 * SEC);
	a.to_state = LAST_ACK;
	alert_diagnose(&a, "ignored");
	assert_string_equal(a.diagnosis, "left CLOSE_WAIT after 2m05s for LAST_ACK");
	a = alert_of_java(SYN_SENT, ALERT_RESOLVED, 3500 * MS);
	a.to_state = CLOSE;
	a.resolution = "connect refused";
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis, "left SYN_SENT after 3.50s for CLOSE: connect refused");
	a.age_at_least = true;
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis,
			    "left SYN_SENT after at least 3.50s for CLOSE: connect refused");
	a = alert_of_java(SYN_RECV, ALERT_RESOLVED, 9 * SEC);
	a.half_open = true;
	a.resolution = GONE;
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis,
			    "left half-open after 9.00s: the request is gone (expired or reset)");
	a.to_state = SYN_RECV;
	a.resolution = "the handshake completed";
	alert_diagnose(&a, NULL);
	assert_string_equal(a.diagnosis,
			    "left half-open after 9.00s for SYN_RECV: the handshake completed");
}

static void test_peer_words(void **unused)
{
	struct alert_peer p = { PEER_UNKNOWN };
	char buf[160] = "x";

	alert_peer_words(buf, sizeof(buf), &p);
	assert_string_equal(buf, "");
	p.kind = PEER_HALF_OPEN;
	alert_peer_words(buf, sizeof(buf), &p);
	assert_string_equal(buf, "the peer is half-open: the SYN/ACK does not reach this client");
	p.kind = PEER_LISTEN_ONLY;
	alert_peer_words(buf, sizeof(buf), &p);
	assert_string_equal(buf, "the peer only LISTENs: the SYN never arrived");
	p.kind = PEER_CLIENT_SYN_SENT;
	alert_peer_words(buf, sizeof(buf), &p);
	assert_string_equal(buf, "the client is in SYN_SENT: the SYN/ACK does not reach it");
	p.owner = true;
	p.pid = 77;
	memcpy(p.comm, "cu\nrl\x1b", 7);
	alert_peer_words(buf, sizeof(buf), &p);
	assert_string_equal(buf, "the client (process 77, cu?rl?) is in SYN_SENT: the SYN/ACK does "
				 "not reach it");
	/* cut to the buffer, always terminated */
	alert_peer_words(buf, 11, &p);
	assert_string_equal(buf, "the client");
}

static void test_aggregate_words(void **unused)
{
	struct alert a = alert_of_java(SYN_SENT, ALERT_FIRING, 0);

	a.aggregate = true;
	a.count = 90;
	a.daddr[0] = 198;
	a.daddr[1] = 18;
	a.daddr[3] = 2;
	a.dport = 80;
	alert_diagnose_aggregate(&a, 10);
	assert_string_equal(a.diagnosis, "90 more SYN_SENT firing alerts toward 198.18.0.2:80 "
					 "(rate limit: 10 per group per minute)");
	a.count = 1;
	a.status = ALERT_RESOLVED;
	alert_diagnose_aggregate(&a, 7);
	assert_string_equal(a.diagnosis, "1 more SYN_SENT resolved alert toward 198.18.0.2:80 "
					 "(rate limit: 7 per group per minute)");
	a = alert_of_java(SYN_RECV, ALERT_FIRING, 0);
	a.aggregate = true;
	a.half_open = true;
	a.count = 3;
	a.sport = 443;
	alert_diagnose_aggregate(&a, 10);
	assert_string_equal(a.diagnosis, "3 more half-open firing alerts on port 443 "
					 "(rate limit: 10 per group per minute)");
	a = alert_of_java(CLOSE_WAIT, ALERT_FIRING, 0);
	a.aggregate = true;
	a.count = 2;
	alert_diagnose_aggregate(&a, 10);
	assert_string_equal(a.diagnosis, "2 more CLOSE_WAIT firing alerts of process 1234 (java) "
					 "(rate limit: 10 per group per minute)");
	a.owner = false;
	alert_diagnose_aggregate(&a, 10);
	assert_string_equal(a.diagnosis,
			    "2 more CLOSE_WAIT firing alerts (rate limit: 10 per group per minute)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diagnose_sentences),
		cmocka_unit_test(test_peer_words),
		cmocka_unit_test(test_aggregate_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
