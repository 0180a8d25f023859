#!/usr/bin/env python3
"""Validate FHIR R4 JSON Bundles with an independent implementation of the FHIR model.

Used by crates/hooks/tests/fhir_validates.rs so that labflight's own idea of "valid
FHIR R4" is checked against someone else's.

    python3 crates/hooks/tests/validate_fhir.py FILE.json [FILE.json ...]

Exit status: 0 every file is a valid Bundle; 1 at least one is not (each error is
printed); 2 usage error; 3 the validator itself is unavailable.

Needs `pip install 'fhir.resources==6.4.*'`.

Which FHIR version: in fhir.resources 6.4.x the top-level modules (`fhir.resources.bundle`
etc.) ARE FHIR R4 (4.0.1) -- `fhir.resources.__fhir_version__ == "4.0.1"`; the only
subpackages are STU3 and DSTU2. The R4B and R5 models (with R5 as the top-level default and
R4 moved under `fhir.resources.R4B`) only arrived in 7.x, so with 6.4 the plain
`from fhir.resources.bundle import Bundle` is exactly R4, which is what labflight speaks.
The script checks that version at start-up and refuses to run on another.

pydantic: fhir.resources 6.4 is written against the pydantic 1.x API (`Bundle.parse_obj`,
not `model_validate`). If pydantic 2 is installed (pip does not prevent that), its bundled
1.x API `pydantic.v1` is put in place of `pydantic` for this process only, so no
downgrade of the machine's pydantic is needed.

What is checked:
  1. fhir.resources: structure, cardinality of required elements, datatypes (decimals,
     dateTime/instant formats, id/uri/code patterns), unknown elements, and each entry's
     resource parsed as its own resource type.
  2. Required code bindings, which fhir.resources lists (as `enum_values`) but does not
     enforce: a `status` of "bogus" passes fhir.resources alone. Lists ending in "+" are
     incomplete in fhir.resources, so the full R4 value sets for those are given below.
  3. Every `urn:uuid:` reference resolves to an entry's fullUrl; fullUrls are unique.
"""

import importlib
import importlib.abc
import importlib.util
import json
import sys

INSTALL = "pip install 'fhir.resources==6.4.*'"

# Full R4 (4.0.1) required value sets for elements whose `enum_values` in
# fhir.resources end in "+" (meaning "more codes exist").
FULL_BINDINGS = {
    "Observation.status": {
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown",
    },
    "DiagnosticReport.status": {
        "registered", "partial", "preliminary", "final", "amended", "corrected",
        "appended", "cancelled", "entered-in-error", "unknown",
    },
    "Task.status": {
        "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
        "in-progress", "on-hold", "failed", "completed", "entered-in-error",
    },
}


def use_pydantic_v1_api():
    """Make `import pydantic[.x]` give pydantic 2's bundled 1.x API (`pydantic.v1[.x]`)."""
    import pydantic

    if not pydantic.VERSION.startswith("2."):
        return
    import pydantic.v1 as v1

    class Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):
            if name.startswith("pydantic.") and not name.startswith("pydantic.v1"):
                return importlib.util.spec_from_loader(name, self)
            return None

        def create_module(self, spec):
            return importlib.import_module("pydantic.v1." + spec.name[len("pydantic."):])

        def exec_module(self, module):
            pass

    for name in list(sys.modules):
        if name == "pydantic" or (
            name.startswith("pydantic.") and not name.startswith("pydantic.v1")
        ):
            del sys.modules[name]
    sys.modules["pydantic"] = v1
    sys.meta_path.insert(0, Alias())


def load_validator():
    try:
        use_pydantic_v1_api()
        import fhir.resources
        from fhir.resources.bundle import Bundle
        from fhir.resources.core.fhirabstractmodel import FHIRAbstractModel
    except ImportError as e:
        print(f"validate_fhir.py: fhir.resources is not usable ({e}); run: {INSTALL}",
              file=sys.stderr)
        sys.exit(3)
    version = getattr(fhir.resources, "__version__", "?")
    fhir_version = getattr(fhir.resources, "__fhir_version__", "?")
    if not version.startswith("6.4.") or fhir_version != "4.0.1":
        print(f"validate_fhir.py: need fhir.resources 6.4.x (FHIR 4.0.1), found {version} "
              f"(FHIR {fhir_version}); run: {INSTALL}", file=sys.stderr)
        sys.exit(3)
    return Bundle, FHIRAbstractModel


def binding_errors(model, path, base):
    """Codes outside their required value set, anywhere under `model`."""
    errors = []
    owner = getattr(model, "resource_type", type(model).__name__)
    for name, field in model.__fields__.items():
        value = getattr(model, name, None)
        if value is None:
            continue
        alias = field.alias or name
        here = f"{path}.{alias}"
        enum = field.field_info.extra.get("enum_values")
        if enum:
            allowed = set(enum)
            if "+" in allowed:
                allowed = FULL_BINDINGS.get(f"{owner}.{alias}")
            values = value if isinstance(value, list) else [value]
            for v in values:
                if allowed is not None and isinstance(v, str) and v not in allowed:
                    errors.append(f"{here}: {v!r} is not in the required value set "
                                  f"{sorted(allowed)}")
        children = value if isinstance(value, list) else [value]
        for i, child in enumerate(children):
            if isinstance(child, base):
                child_path = f"{here}[{i}]" if isinstance(value, list) else here
                errors.extend(binding_errors(child, child_path, base))
    return errors


def reference_errors(raw):
    errors = []
    full_urls = [e.get("fullUrl") for e in raw.get("entry", []) if e.get("fullUrl")]
    for url in {u for u in full_urls if full_urls.count(u) > 1}:
        errors.append(f"Bundle.entry.fullUrl: {url!r} appears more than once")
    known = set(full_urls)

    def walk(node, path):
        if isinstance(node, dict):
            ref = node.get("reference")
            if isinstance(ref, str) and ref.startswith("urn:uuid:") and ref not in known:
                errors.append(f"{path}.reference: {ref!r} matches no entry's fullUrl")
            for k, v in node.items():
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(raw, "Bundle")
    return errors


def validate(path, Bundle, base):
    """A list of error messages; empty when valid."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        return [f"cannot read JSON: {e}"]
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        return [f"resourceType: expected 'Bundle', got {raw.get('resourceType') if isinstance(raw, dict) else type(raw).__name__!r}"]
    try:
        bundle = Bundle.parse_obj(raw)
    except Exception as e:  # pydantic.ValidationError and friends: report, don't crash
        return [f"fhir.resources: {e}"]
    errors = binding_errors(bundle, "Bundle", base)
    errors.extend(reference_errors(raw))
    return errors


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    Bundle, base = load_validator()
    failed = 0
    for path in argv[1:]:
        errors = validate(path, Bundle, base)
        if errors:
            failed += 1
            print(f"INVALID {path}")
            for e in errors:
                print("  " + e.replace("\n", "\n  "))
        else:
            with open(path, encoding="utf-8") as f:
                kinds = [e["resource"]["resourceType"] for e in json.load(f).get("entry", [])]
            print(f"valid   {path}: Bundle of {', '.join(kinds) or 'nothing'}")
    print(f"{len(argv) - 1 - failed} valid, {failed} invalid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
