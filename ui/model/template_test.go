package model

import (
	"strings"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
)

func TestTemplateForm(t *testing.T) {
	at := calls.AgentTemplate{AgentID: "a1", AgentName: "Order desk", Variables: []string{"customerName", "orderId"},
		Values: map[string]string{"customerName": "Ada"}, Missing: []string{"orderId"}}
	f := TemplateFormOf(at)
	if f.Title != "Values for Order desk" || len(f.Fields) != 2 || f.Fields[0].Value != "Ada" || f.Fields[0].Missing || !f.Fields[1].Missing {
		t.Fatalf("form %+v", f)
	}
	if _, err := f.TemplateValues(map[string]string{"customerName": "Ada", "orderId": "  "}); err == nil || !strings.Contains(err.Error(), "orderId") || strings.Contains(err.Error(), "customerName") {
		t.Fatalf("empty orderId: %v, want an error naming only it", err)
	}
	vals, err := f.TemplateValues(map[string]string{"customerName": " Ada ", "orderId": "A-17"})
	if err != nil || vals["customerName"] != "Ada" || vals["orderId"] != "A-17" {
		t.Fatalf("values %v, %v", vals, err)
	}
}
