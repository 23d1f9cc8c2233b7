package main

import (
	"net"
	"net/url"
	"strconv"
)

// configuredServer is the base URL of the server `tokenlab serve` starts
// with this configuration (.env, then the environment), so that watch and
// sessions find it without --server. A wildcard or empty host is reached
// on loopback.
func configuredServer(e env) (*url.URL, error) {
	cfg, err := loadConfig(e, nil)
	if err != nil {
		return nil, err
	}
	if cfg.Port == 0 {
		return nil, usageErrorf("PORT is 0, so the server's port is picked at start: give --server with the URL it printed")
	}
	host := cfg.Host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, strconv.Itoa(cfg.Port))}, nil
}
