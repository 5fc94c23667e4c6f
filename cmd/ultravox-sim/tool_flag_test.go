package main

import (
	"io"
	"testing"
)

// -client-tool makes every agent invoke that client tool once joined.
func TestClientToolFlag(t *testing.T) {
	cfg, err := parseFlags([]string{"-client-tool", " lookupOrder "}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.opts.ClientTool != "lookupOrder" {
		t.Fatalf("ClientTool %q, want lookupOrder", cfg.opts.ClientTool)
	}
	if cfg, err = parseFlags(nil, io.Discard); err != nil || cfg.opts.ClientTool != "" {
		t.Fatalf("default: %q, %v; want no tool", cfg.opts.ClientTool, err)
	}
}
