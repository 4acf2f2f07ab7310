//go:build !linux

package main

import "errors"

// runLeanFanoutClients needs epoll: elsewhere the benchmark runs with FANOUT_CLIENTS=coder.
func runLeanFanoutClients(string, int, []byte, *fanoutClients) (func(), error) {
	return nil, errors.New("the lean fan-out clients need Linux (epoll); use FANOUT_CLIENTS=coder")
}
