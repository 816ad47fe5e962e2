// Package kubernetes_test checks deploy/kubernetes/daemonset.yaml offline:
// every document is decoded strictly into the Kubernetes API's Go types
// (k8s.io/api; unknown or misspelt fields are errors, as `kubectl apply
// --validate=strict` would say), and what AINKA reads from it — the
// configuration and the policies of the ConfigMap — is parsed by AINKA's
// own parsers. kubeconform would need its JSON schemas downloaded from
// GitHub, which CI here cannot reach; the API types are the schemas'
// source.
package kubernetes_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/stages/decide"
)

type manifest struct {
	ns  *corev1.Namespace
	cm  *corev1.ConfigMap
	ds  *appsv1.DaemonSet
	all int
}

// decodeStrict decodes every document of a multi-document YAML file into
// its API type, refusing unknown fields and unknown kinds.
func decodeStrict(b []byte) (*manifest, error) {
	m := &manifest{}
	for i, doc := range bytes.Split(b, []byte("\n---\n")) {
		var tm struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Namespace":
			m.ns = &corev1.Namespace{}
			obj = m.ns
		case "v1 ConfigMap":
			m.cm = &corev1.ConfigMap{}
			obj = m.cm
		case "apps/v1 DaemonSet":
			m.ds = &appsv1.DaemonSet{}
			obj = m.ds
		default:
			return nil, fmt.Errorf("document %d: unexpected %s %s", i+1, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i+1, tm.Kind, err)
		}
		m.all++
	}
	return m, nil
}

func TestDaemonSetManifest(t *testing.T) {
	b, err := os.ReadFile("daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeStrict(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.ns == nil || m.cm == nil || m.ds == nil || m.all != 3 {
		t.Fatalf("want a Namespace, a ConfigMap and a DaemonSet, got %d documents", m.all)
	}
	checkDaemonSet(t, m)
	checkConfigMap(t, m.cm)
}

func checkDaemonSet(t *testing.T, m *manifest) {
	ds := m.ds
	if ds.Namespace != m.ns.Name || m.cm.Namespace != m.ns.Name {
		t.Errorf("namespaces: DaemonSet %q, ConfigMap %q, Namespace %q", ds.Namespace, m.cm.Namespace, m.ns.Name)
	}
	for k, v := range ds.Spec.Selector.MatchLabels {
		if ds.Spec.Template.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod template's labels", k, v)
		}
	}
	spec := ds.Spec.Template.Spec
	vols := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		vols[v.Name] = v
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	for _, vm := range c.VolumeMounts {
		if _, ok := vols[vm.Name]; !ok {
			t.Errorf("volume mount %q names no volume", vm.Name)
		}
	}
	if cfg := vols["config"]; cfg.ConfigMap == nil || cfg.ConfigMap.Name != m.cm.Name {
		t.Errorf("the config volume is not the ConfigMap %q: %+v", m.cm.Name, cfg)
	}
	node := false
	for _, e := range c.Env {
		node = node || (e.Name == "NODE_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName")
	}
	if !node {
		t.Error("no NODE_NAME from spec.nodeName: the push's host label would not be the node")
	}
	if strings.Join(c.Args, " ") != "run --config /etc/ainka/config.toml" {
		t.Errorf("args %q", c.Args)
	}
}

// The ConfigMap's configuration loads (with NODE_NAME set as the pod has
// it), pushes with the node's name, and names the mounted policy file,
// whose policies parse.
func checkConfigMap(t *testing.T, cm *corev1.ConfigMap) {
	dir := t.TempDir()
	cfgText := cm.Data["config.toml"]
	if err := os.WriteFile(dir+"/config.toml", []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir + "/config.toml")
	if err != nil {
		t.Fatalf("the ConfigMap's config.toml: %v", err)
	}
	if cfg.Telemetry.PushURL == "" || cfg.Telemetry.PushLabels["host"] != "${NODE_NAME}" {
		t.Errorf("push_url %q, host label %q: want a push labelled with the node's name", cfg.Telemetry.PushURL, cfg.Telemetry.PushLabels["host"])
	}
	if cfg.Policy.PolicyFile != "/etc/ainka/policies.toml" {
		t.Errorf("policy_file %q is not the ConfigMap's policies.toml", cfg.Policy.PolicyFile)
	}
	ps, err := decide.ParseFile("policies.toml", []byte(cm.Data["policies.toml"]))
	if err != nil || len(ps) == 0 {
		t.Errorf("the ConfigMap's policies.toml: %d policies, %v", len(ps), err)
	}
}

// Strict decoding bites: a misspelt field, a wrong type, an unknown kind.
func TestStrictDecodingRefuses(t *testing.T) {
	b, err := os.ReadFile("daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, to, want string }{
		{"      containers:\n", "      contianers:\n", `unknown field "contianers"`},
		{"hostPID: true", "hostPID: yes-please", "hostPID"},
		{"kind: DaemonSet", "kind: DaemonSett", "unexpected apps/v1 DaemonSett"},
		{"              containerPort: 9464", "              containerPort: \"nine\"", "containerPort"},
	} {
		bad := strings.Replace(string(b), c.from, c.to, 1)
		if bad == string(b) {
			t.Fatalf("%q is not in the manifest", c.from)
		}
		if _, err := decodeStrict([]byte(bad)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s → %s: %v, want an error naming %q", c.from, c.to, err, c.want)
		}
	}
}
