// Package tcpcc switches the congestion control of the open TCP
// connections of a network namespace, with a TCP socket iterator
// (bpf/tcpcc.bpf.c) that calls bpf_setsockopt(TCP_CONGESTION) on each.
//
// net.ipv4.tcp_congestion_control reaches only connections opened after
// it is set; actuate calls a Switcher after writing that sysctl (and
// after restoring it), inside the namespace written, so that the
// connections open at the change follow it too.
package tcpcc
