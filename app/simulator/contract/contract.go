// Package contract validates Ultravox REST traffic against the published
// schema (openapi.yaml, an embedded copy of app/ultravox/testdata/openapi.yaml)
// with kin-openapi's openapi3filter. Every request the client sends and every
// response the simulator returns pass through a Validator in tests
// (simtest.New); each mismatch is kept as a Violation. Error bodies, which
// the schema leaves undescribed, are held to the Django-REST shapes the real
// API answers with ({"detail": "..."} or {"field": ["message", ...]}).
//
// Intentional deviations (the Deviations table, with reasons):
//
//	where                                  what
//	Call.agent                             null accepted (ad-hoc calls have no agent)
//	responses with X-Simulator-Fault       not validated (failures injected by tests)
//	servers                                any host (tests use a loopback simulator)
//	metadata.<key>=<value> query params    accepted (documented in prose only)
package contract

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Schema is the embedded Ultravox OpenAPI document.
//
//go:embed openapi.yaml
var Schema []byte

// FaultHeader marks a response broken on purpose by the simulator's test
// controls; such responses are not held to the schema (see Deviations). It
// equals simulator.FaultHeader (kept separate so this package stands alone).
const FaultHeader = "X-Simulator-Fault"

// Deviation is one intentional difference between the simulator's traffic
// and the letter of the schema, with the reason.
type Deviation struct {
	Where string
	What  string
	Why   string
	apply func(doc *openapi3.T) error
}

// Deviations is the complete list of intentional deviations. Anything not
// listed here is a violation.
var Deviations = []Deviation{
	{
		Where: "Call.agent (every operation returning a Call)",
		What:  "null is accepted",
		Why: "An ad-hoc call (POST /api/calls) has no agent. The schema marks `agent` required and " +
			"not nullable because it was generated from the agent-call serializer; there is no agent to " +
			"describe, so the simulator sends null, as it does for `agentId` (which the schema does mark nullable).",
		apply: func(doc *openapi3.T) error {
			call := doc.Components.Schemas["Call"]
			if call == nil || call.Value == nil || call.Value.Properties["agent"] == nil {
				return errors.New("schema has no Call.agent")
			}
			call.Value.Properties["agent"].Value.Nullable = true
			return nil
		},
	},
	{
		Where: "responses carrying the " + FaultHeader + " header",
		What:  "not validated (their requests still are)",
		Why: "They are failures injected on purpose by tests (FailNext, Malformed, ...): a cut-off JSON body " +
			"or an error status is the point of such a test.",
	},
	{
		Where: "servers",
		What:  "any scheme and host",
		Why:   "The schema names https://api.ultravox.ai; tests talk to a loopback simulator.",
		apply: func(doc *openapi3.T) error {
			doc.Servers = nil
			return nil
		},
	},
	{
		Where: "query parameters not in the schema (metadata.<key>=<value>)",
		What:  "accepted",
		Why: "The schema declares `metadata` as an object parameter and documents the dotted " +
			"metadata.key=value form in prose; openapi3filter ignores undeclared query parameters.",
	},
}

// Violation is one mismatch between traffic and the schema.
type Violation struct {
	Operation string // operationId, or METHOD path when no operation matched
	Method    string
	Path      string
	Direction string // "request" or "response"
	Status    int    // response status (0 for requests)
	Reason    string
}

func (v Violation) String() string {
	s := fmt.Sprintf("%s %s %s (%s)", v.Direction, v.Method, v.Path, v.Operation)
	if v.Status != 0 {
		s += fmt.Sprintf(" status %d", v.Status)
	}
	return s + ": " + v.Reason
}

// Validator checks requests and responses against the schema. It is safe
// for concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options

	mu         sync.Mutex
	violations []Violation
	requests   int
	responses  int
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)

// loaded is the schema, parsed once per process (it takes a noticeable
// fraction of a second) and shared read-only by every Validator.
var loaded struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
	err    error
}

// New returns a Validator with no violations recorded. The embedded schema,
// with Deviations applied, is loaded on first use.
func New() (*Validator, error) {
	loaded.once.Do(func() {
		loaded.doc, loaded.router, loaded.opts, loaded.err = load()
	})
	if loaded.err != nil {
		return nil, loaded.err
	}
	return &Validator{doc: loaded.doc, router: loaded.router, opts: loaded.opts}, nil
}

func load() (*openapi3.T, routers.Router, *openapi3filter.Options, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(Schema)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("contract: load schema: %w", err)
	}
	for _, d := range Deviations {
		if d.apply != nil {
			if err := d.apply(doc); err != nil {
				return nil, nil, nil, fmt.Errorf("contract: deviation %q: %w", d.Where, err)
			}
		}
	}
	formats := map[string]openapi3.StringFormatValidator{
		"date":      openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringDate),
		"date-time": openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringDateTime),
		"byte":      openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringByte),
		"uuid":      openapi3.NewRegexpFormatValidator(uuidRE.String()),
		"uri": openapi3.NewCallbackValidator(func(s string) error {
			u, err := url.Parse(s)
			if err != nil || u.Scheme == "" || u.Host == "" {
				return fmt.Errorf("not an absolute URI: %q", s)
			}
			return nil
		}),
	}
	doc.SetStringFormatValidators(formats)
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("contract: build router: %w", err)
	}
	opts := &openapi3filter.Options{
		MultiError:              true,
		AuthenticationFunc:      checkAPIKeyPresent,
		SchemaValidationOptions: append(doc.GetSchemaValidationOptions(), openapi3.EnableFormatValidation()),
	}
	return doc, router, opts, nil
}

// checkAPIKeyPresent verifies the request carries the header the schema's
// security scheme names. Whether the key is right is the server's business
// (a wrong key is a valid request that gets 401).
func checkAPIKeyPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	if scheme == nil || scheme.Type != "apiKey" || scheme.In != "header" {
		return fmt.Errorf("unsupported security scheme %s", in.SecuritySchemeName)
	}
	if in.RequestValidationInput.Request.Header.Get(scheme.Name) == "" {
		return fmt.Errorf("missing %s header", scheme.Name)
	}
	return nil
}

// Violations returns every violation so far.
func (v *Validator) Violations() []Violation {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Violation(nil), v.violations...)
}

// Checked reports how many requests and responses were validated.
func (v *Validator) Checked() (requests, responses int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.requests, v.responses
}

func (v *Validator) add(x Violation) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.violations = append(v.violations, x)
}

// CheckRequest validates one request and returns its violations (also
// recorded).
func (v *Validator) CheckRequest(r *http.Request, body []byte) []Violation {
	_, out := v.checkRequest(r, body)
	return out
}

func (v *Validator) checkRequest(r *http.Request, body []byte) (*openapi3filter.RequestValidationInput, []Violation) {
	v.mu.Lock()
	v.requests++
	v.mu.Unlock()
	base := Violation{Method: r.Method, Path: r.URL.Path, Direction: "request", Operation: r.Method + " " + r.URL.Path}
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		base.Reason = "no operation in the schema: " + err.Error()
		v.add(base)
		return nil, []Violation{base}
	}
	base.Operation = route.Operation.OperationID
	clone := r.Clone(r.Context())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: clone, PathParams: params, Route: route, Options: v.opts}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		var out []Violation
		for _, reason := range reasons(err) {
			x := base
			x.Reason = reason
			v.add(x)
			out = append(out, x)
		}
		return in, out
	}
	return in, nil
}

// CheckResponse validates a response to r and returns its violations (also
// recorded). Responses marked with FaultHeader are skipped.
func (v *Validator) CheckResponse(r *http.Request, reqBody []byte, status int, header http.Header, body []byte) []Violation {
	in, _ := v.findInput(r, reqBody)
	return v.checkResponse(in, r, status, header, body)
}

func (v *Validator) findInput(r *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return nil, err
	}
	clone := r.Clone(r.Context())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	return &openapi3filter.RequestValidationInput{Request: clone, PathParams: params, Route: route, Options: v.opts}, nil
}

func (v *Validator) checkResponse(in *openapi3filter.RequestValidationInput, r *http.Request, status int, header http.Header, body []byte) []Violation {
	if header.Get(FaultHeader) != "" || in == nil {
		return nil
	}
	v.mu.Lock()
	v.responses++
	v.mu.Unlock()
	base := Violation{Method: r.Method, Path: r.URL.Path, Direction: "response", Status: status, Operation: in.Route.Operation.OperationID}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Options:                v.opts,
	}
	rin.SetBodyBytes(body)
	var out []Violation
	if err := openapi3filter.ValidateResponse(r.Context(), rin); err != nil {
		for _, reason := range reasons(err) {
			x := base
			x.Reason = reason
			out = append(out, x)
		}
	}
	// The schema says nothing about error bodies; the notes say they are
	// Django-REST-style JSON objects. Hold the simulator to that.
	if status >= 400 {
		if reason := checkErrorBody(header, body); reason != "" {
			x := base
			x.Reason = reason
			out = append(out, x)
		}
	}
	for _, x := range out {
		v.add(x)
	}
	return out
}

// checkErrorBody requires a JSON object error body: {"detail": "..."} or
// field errors {"field": ["...", ...]}.
func checkErrorBody(header http.Header, body []byte) string {
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Sprintf("error response has Content-Type %q, want application/json", ct)
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return "error body is not a JSON object: " + err.Error()
	}
	if len(obj) == 0 {
		return "error body is an empty object"
	}
	if d, ok := obj["detail"]; ok {
		if s, ok := d.(string); !ok || s == "" {
			return "error body's detail is not a non-empty string"
		}
		return ""
	}
	for k, val := range obj {
		list, ok := val.([]any)
		if !ok || len(list) == 0 {
			return fmt.Sprintf("error body field %q is not a non-empty list of messages", k)
		}
		for _, m := range list {
			if s, ok := m.(string); !ok || s == "" {
				return fmt.Sprintf("error body field %q holds a message that is not a non-empty string", k)
			}
		}
	}
	return ""
}

// reasons flattens a kin-openapi (multi) error into one line per problem,
// naming the parameter when a parameter is at fault.
func reasons(err error) []string {
	if me, ok := err.(openapi3.MultiError); ok {
		var out []string
		for _, e := range me {
			out = append(out, reasons(e)...)
		}
		return out
	}
	if re, ok := err.(*openapi3filter.RequestError); ok && re.Parameter != nil && re.Err != nil {
		var out []string
		for _, r := range reasons(re.Err) {
			out = append(out, fmt.Sprintf("%s parameter %q: %s", re.Parameter.In, re.Parameter.Name, r))
		}
		return out
	}
	return []string{strings.Join(strings.Fields(err.Error()), " ")}
}

// Middleware validates every request before next handles it and every
// response next writes.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, `{"detail":"could not read the request body"}`, http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		in, _ := v.checkRequest(r, body)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		v.checkResponse(in, r, rec.status, rec.Header(), rec.body.Bytes())
	})
}

// recorder passes a response through while keeping a copy.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status = code
		r.wroteHeader = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
