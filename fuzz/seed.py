#!/usr/bin/env python3
"""Fill fuzz/corpus/<target>/ with seed inputs (generated, not committed).

Sources: the shared corpus of real public configs (../shared/corpus, or $OBSGATE_CORPUS), the
repository's fixtures/, tests/data/ and tests/cmd/, and the configuration examples of README.md.
PromQL expressions, templates and shell scripts are extracted from the rule, Alertmanager and
CI files (with PyYAML when it is installed; a line-based fallback otherwise).

Usage: fuzz/seed.py [CORPUS_DIR]   (default: fuzz/corpus)
"""

import hashlib
import json
import os
import re
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
SHARED = Path(os.environ.get("OBSGATE_CORPUS", ROOT.parent / "shared" / "corpus"))
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else FUZZ / "corpus"

try:
    import yaml  # type: ignore
except ImportError:  # pragma: no cover
    yaml = None

MAX_SEED = 256 * 1024
counts = {}


def add(target, text):
    if isinstance(text, str):
        data = text.encode("utf-8", "surrogatepass")
    else:
        data = text
    if not data or len(data) > MAX_SEED:
        return
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    p = d / name
    if not p.exists():
        p.write_bytes(data)
        counts[target] = counts.get(target, 0) + 1


def files(*roots, exts=(".yml", ".yaml")):
    for root in roots:
        if not root.exists():
            continue
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.name.endswith(exts) and "/target/" not in str(p):
                yield p


def read(p):
    try:
        return p.read_text("utf-8")
    except (UnicodeDecodeError, OSError):
        return None


def docs(text):
    if yaml is None:
        return []
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except Exception:
        return []


def walk(node, key=None):
    """(key, value) of every scalar in a YAML tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, key)
    else:
        yield key, node


def classify(path, text):
    s = str(path)
    if "/.github/workflows/" in s or "/pipelines/" in s or "gitlab-ci" in path.name or path.name == "action.yml":
        return "ci_yaml"
    if "/fixtures/pipeline/" in s or path.name == "github-workflow.yml":
        return "ci_yaml"
    if path.name in ("obsgate.yml", ".obsgate.yml") or "/tests/cmd/" in s:
        return "obsgate_config"
    if re.search(r"^\s*(- )?(alert|record):", text, re.M) or "groups:" in text:
        return "rules_yaml"
    if re.search(r"^(route|receivers|inhibit_rules|global):", text, re.M) or "alertmanager" in s:
        return "alertmanager_yaml"
    if re.search(r"^[A-Za-z_.-]+:\n\s+(script|stage|image):", text, re.M):
        return "ci_yaml"
    return None


def extract(text):
    """PromQL, templates and shell scripts of a YAML file."""
    exprs, templates, scripts = [], [], []
    parsed = docs(text)
    for d in parsed:
        for k, v in walk(d):
            if not isinstance(v, str):
                continue
            if k == "expr":
                exprs.append(v)
            if "{{" in v:
                templates.append(v)
            if k in ("script", "before_script", "after_script", "run") or (
                isinstance(k, str) and k.endswith("script")
            ):
                scripts.append(v)
    if not parsed:
        # line-based fallback: single-line values only
        for m in re.finditer(r"^\s*(?:- )?expr:\s*(\S.*)$", text, re.M):
            exprs.append(m.group(1).strip().strip("'\""))
        for m in re.finditer(r"^\s*[A-Za-z_]+:\s*(.*\{\{.*)$", text, re.M):
            templates.append(m.group(1).strip().strip("'\""))
    return exprs, templates, scripts


def main():
    roots = [SHARED, ROOT / "fixtures", ROOT / "tests" / "data", ROOT / "tests" / "cmd", ROOT / "examples", ROOT / "templates"]
    if not SHARED.exists():
        print(f"seed: {SHARED} not found; seeding from the repository only", file=sys.stderr)
    for p in files(*roots):
        text = read(p)
        if text is None:
            continue
        target = classify(p, text)
        if target:
            add(target, text)
        exprs, templates, scripts = extract(text)
        for e in exprs:
            add("promql", e)
        for t in templates:
            add("gotemplate", t)
        for s in scripts:
            add("heredoc", s)
    # exposition samples: Prometheus' own test data and the scrapes in probe records
    for p in files(SHARED, exts=(".txt",)):
        if "textparse" in str(p):
            text = read(p)
            if text:
                add("exposition", text)
    for p in files(ROOT / "fixtures", exts=(".probe.json",)):
        try:
            record = json.loads(p.read_text("utf-8"))
        except (ValueError, OSError):
            continue
        for t in record.get("targets", []):
            body = ((t or {}).get("metrics") or {}).get("body")
            if body:
                add("exposition", body)
    # shell scripts of the fixtures
    for p in files(ROOT / "fixtures", ROOT / "tests", exts=(".sh",)):
        text = read(p)
        if text:
            add("heredoc", text)
    # `.obsgate.yml` examples in the docs: fenced YAML blocks with config keys
    for p in [ROOT / "README.md", ROOT.parent / "shared" / "DESIGN.md"]:
        text = read(p) if p.exists() else None
        for block in re.findall(r"```ya?ml\n(.*?)```", text or "", re.S):
            if re.search(r"^(checks|thresholds|include|exclude|runbooks|annotations|probe|prometheus):", block, re.M):
                add("obsgate_config", block)
    # a few hand-written seeds for shapes the corpus lacks
    add("heredoc", "set -eo pipefail\ncat > rules.yml <<'EOF'\ngroups: []\nEOF\ncat <<-EOF | tee out.yml\n\tkey: $VALUE ${OTHER:-x} $(date)\n\tEOF\nif ! curl -f http://x; then exit 1; fi\n")
    add("heredoc", "kubectl apply -f - <<EOF\napiVersion: v1\nkind: ConfigMap\ndata:\n  a: \\$b `c`\nEOF\nwhile read l; do echo $l; done <<X\n1\nX\n")
    add("exposition", "# HELP a_total A counter.\n# TYPE a_total counter\na_total{x=\"1\"} 3 1700000000000\n# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n")
    add("exposition", "# TYPE c counter\n# HELP c x\nc_total 1 # {trace_id=\"a\"} 1 1.5\nc_created 1.0\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\n# EOF\n")
    add("promql", "histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket{job=~\"api|web\"}[5m] offset 1h @ 1700000000)))")
    add("promql", "sum(rate(a_total[5m])) / ignoring(code) group_left(team) sum(rate(b_total[5m:1m])) > bool 0.5 unless on(job) absent(up{job=\"x\"})")
    add("gotemplate", "{{ define \"t\" }}{{ range .Alerts }}{{ .Labels.severity | toUpper }} {{ end }}{{ end }}{{ template \"t\" . }}")
    add("gotemplate", "{{ $labels.instance }} value {{ $value | humanize }}{{ with query \"up\" }}{{ . | first | value }}{{ end }}")
    add("obsgate_config", "include: ['**/*.yml']\nexclude: ['vendor/**']\nchecks:\n  alerts/missing-for: off\n  promql/range-too-short:\n    severity: warning\nthresholds:\n  - name: latency_p99\n    value: 500ms\n")
    for t in sorted(counts):
        print(f"seed: {t}: {counts[t]} new inputs")


if __name__ == "__main__":
    main()
