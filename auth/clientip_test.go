package auth

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientIP(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.0/8, 192.168.1.1, fd00::/8")
	require.NoError(t, err)
	cases := []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"no proxy configured: the peer, header ignored", "203.0.113.9:443", "1.1.1.1", nil, "203.0.113.9"},
		{"untrusted peer: header ignored", "203.0.113.9:443", "1.1.1.1", trusted, "203.0.113.9"},
		{"trusted peer: the client it forwarded", "10.1.2.3:443", "198.51.100.7", trusted, "198.51.100.7"},
		{"walks from the right past trusted proxies", "10.1.2.3:443", "198.51.100.7, 192.168.1.1, 10.9.9.9", trusted, "198.51.100.7"},
		{"a client-written entry left of the real one is ignored", "10.1.2.3:443", "6.6.6.6, 198.51.100.7, 10.9.9.9", trusted, "198.51.100.7"},
		{"several headers joined", "10.1.2.3:443", "6.6.6.6,198.51.100.7,10.0.0.1", trusted, "198.51.100.7"},
		{"every hop trusted: the farthest", "10.1.2.3:443", "10.0.0.7, 10.0.0.8", trusted, "10.0.0.7"},
		{"garbage entry stops at the last trusted hop", "10.1.2.3:443", "198.51.100.7, unknown, 10.0.0.8", trusted, "10.0.0.8"},
		{"entry with a port", "10.1.2.3:443", "198.51.100.7:5555", trusted, "198.51.100.7"},
		{"IPv6 peer and entry", "[fd00::1]:443", "2001:db8::5", trusted, "2001:db8::5"},
		{"bracketed IPv6 entry with port", "[fd00::1]:443", "[2001:db8::5]:80", trusted, "2001:db8::5"},
		{"IPv4-mapped IPv6 peer is unmapped", "[::ffff:10.1.2.3]:443", "198.51.100.7", trusted, "198.51.100.7"},
		{"trusted peer, no header", "10.1.2.3:443", "", trusted, "10.1.2.3"},
		{"unreadable remote", "pipe", "198.51.100.7", trusted, "invalid IP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ClientIP(tc.remote, tc.xff, tc.trusted).String())
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes(" 10.0.0.0/8 ,,127.0.0.1, ::1, ::ffff:172.16.0.0/108, 10.1.2.3/16")
	require.NoError(t, err)
	want := []string{"10.0.0.0/8", "127.0.0.1/32", "::1/128", "172.16.0.0/12", "10.1.0.0/16"}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	assert.Equal(t, want, s)
	for _, bad := range []string{"10.0.0.0/33", "proxy.internal", "10.0.0"} {
		_, err := ParsePrefixes(bad)
		assert.Error(t, err, bad)
	}
}
