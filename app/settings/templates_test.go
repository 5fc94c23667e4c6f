package settings

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTemplateValuesSaveLoadAndValidate(t *testing.T) {
	st := NewStore(filepath.Join(t.TempDir(), "settings.json"))
	s := Defaults().WithTemplateValues("agent-1", map[string]string{"customerName": "Ada", "orderId": "A-17"})
	s2 := s.WithTemplateValues("agent-1", map[string]string{"orderId": ""})
	if s.TemplateValues["agent-1"]["orderId"] != "A-17" || s2.TemplateValues["agent-1"]["orderId"] != "" || s2.TemplateValues["agent-1"]["customerName"] != "Ada" {
		t.Fatalf("WithTemplateValues: before %v after %v (an empty value removes it; the original is unchanged)", s.TemplateValues, s2.TemplateValues)
	}
	if err := st.Save(s); err != nil {
		t.Fatal(err)
	}
	got, err := st.Load()
	if err != nil || got.TemplateValues["agent-1"]["orderId"] != "A-17" {
		t.Fatalf("loaded %v, %v", got.TemplateValues, err)
	}
	bad := s.WithTemplateValues("agent-2", map[string]string{"not a name": "x"})
	var ve ValidationError
	if err := bad.Validate(); !errors.As(err, &ve) || ve[0].Field != "templateValues" || !strings.Contains(err.Error(), `"not a name"`) {
		t.Fatalf("invalid variable name: %v", err)
	}
	if err := st.Save(bad); err == nil {
		t.Fatal("Save accepted an invalid template variable name")
	}
	// A file with one bad agent keeps the good agent's values.
	raw, _ := json.Marshal(bad)
	if err := os.WriteFile(st.Path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = st.Load()
	var be *BrokenFileError
	if !errors.As(err, &be) || got.TemplateValues["agent-1"]["customerName"] != "Ada" || got.TemplateValues["agent-2"] != nil {
		t.Fatalf("load with a bad agent: %v, %v", got.TemplateValues, err)
	}
}
