"""Lint: infra/openapi.yaml is valid OpenAPI and describes exactly the routes of the template."""

import sys

import yaml
from cfnlint.decode import cfn_yaml
from openapi_spec_validator import validate

template_path, openapi_path = sys.argv[1], sys.argv[2]
spec = yaml.safe_load(open(openapi_path))
validate(spec)
routes = {
    (e["Properties"]["Method"].lower(), e["Properties"]["Path"])
    for r in cfn_yaml.load(template_path)["Resources"].values()
    if r["Type"] == "AWS::Serverless::Function"
    for e in r.get("Properties", {}).get("Events", {}).values()
    if e["Type"] == "HttpApi"
}
documented = {(m, p) for p, ops in spec["paths"].items() for m in ops if m in {"get", "post", "put", "patch", "delete"}}
missing, extra = routes - documented, documented - routes
for m, p in sorted(missing):
    print(f"openapi: {m.upper()} {p} is routed in the template but not documented")
for m, p in sorted(extra):
    print(f"openapi: {m.upper()} {p} is documented but not routed in the template")
sys.exit(1 if missing or extra else 0)
