"""Loading: YAML quirks, multi-file refs across folders, recursion."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.build import build_api
from generator.errors import SpecError
from generator.ir import ArrayType, ModelRef, ObjectModel
from generator.load import load_spec
from tests.conftest import SHARED_SPECS


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_yaml_is_read_as_openapi_means_it(tmp_path: Path) -> None:
    spec = write(tmp_path / "a.yaml", """openapi: 3.0.3
info: {title: T, version: 1.10}
paths:
  /x:
    get:
      responses:
        200:
          description: ok
          content:
            application/json:
              schema: {type: string, enum: [on, off, yes, 2020-01-01]}
""")
    source = load_spec(spec)
    responses = source.root.tree["paths"]["/x"]["get"]["responses"]
    assert list(responses) == ["200"]
    assert responses["200"]["content"]["application/json"]["schema"]["enum"] == ["on", "off", "yes", "2020-01-01"]


def test_refs_across_folders_and_recursive_schemas(tmp_path: Path) -> None:
    write(tmp_path / "common" / "schemas.yaml", """Node:
  type: object
  properties:
    children:
      type: array
      items: {$ref: '#/Node'}
    owner: {$ref: '../people/person.yaml'}
""")
    write(tmp_path / "people" / "person.yaml", """type: object
properties:
  name: {type: string}
  manager: {$ref: 'person.yaml'}
""")
    spec = write(tmp_path / "api" / "root.yaml", """openapi: 3.1.0
info: {title: T, version: '1'}
paths:
  /tree:
    get:
      operationId: getTree
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '../common/schemas.yaml#/Node'}
""")
    api, _ = build_api(load_spec(spec, ref_root=tmp_path))  # not in a repository: ../ needs a wider root
    response = api.operations[0].responses[0].type
    assert isinstance(response, ModelRef)
    node = api.model(response.key)
    assert isinstance(node, ObjectModel) and node.name_hint == "Node"
    children = node.properties[0].type
    assert isinstance(children, ArrayType) and children.items == response
    person = api.model(node.properties[1].type.key)  # type: ignore[union-attr]
    assert isinstance(person, ObjectModel) and person.name_hint == "person"
    assert person.properties[1].type == node.properties[1].type


def test_dangling_ref_names_file_and_pointer(tmp_path: Path) -> None:
    spec = write(tmp_path / "root.yaml", """openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /x:
    get:
      responses:
        '200': {$ref: 'other.yaml#/nope'}
""")
    write(tmp_path / "other.yaml", "yes: 1\n")
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    text = str(info.value)
    assert "other.yaml#/nope does not exist" in text and "root.yaml:7 at #/paths/~1x/get/responses/200" in text


@pytest.mark.skipif(not SHARED_SPECS.is_dir(), reason="../shared/specs is absent (only in the accessgen workspace)")
def test_apiture_multi_file_spec_loads() -> None:
    source = load_spec(SHARED_SPECS / "apiture-ref-resolver-testdata" / "api-b" / "api.yaml", ref_root=SHARED_SPECS)
    assert len(source.documents) > 1
    api, _ = build_api(source)
    assert api.operations


def test_allof_that_only_documents_a_reference_is_that_reference(tmp_path: Path) -> None:
    spec = write(tmp_path / "a.yaml", """openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /x:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Droplet'}
components:
  schemas:
    resourceId: {type: string}
    readOnlyResourceId:
      readOnly: true
      allOf: [{$ref: '#/components/schemas/resourceId'}]
    window: {type: object, nullable: true, properties: {start: {type: string}}}
    Droplet:
      type: object
      required: [id, next_backup_window]
      properties:
        id: {$ref: '#/components/schemas/readOnlyResourceId'}
        next_backup_window:
          allOf:
            - $ref: '#/components/schemas/window'
            - description: When the next backup starts.
""")
    from generator.ir import NullableType, PrimitiveType

    api, _ = build_api(load_spec(spec))
    droplet = next(m for m in api.models if isinstance(m, ObjectModel) and m.name_hint == "Droplet")
    identifier, window = droplet.properties
    assert identifier.type == PrimitiveType("string") and identifier.read_only
    assert isinstance(window.type, NullableType) and isinstance(window.type.inner, ModelRef)
    assert sorted(m.name_hint for m in api.models if isinstance(m, ObjectModel)) == ["Droplet", "window"], "no duplicate class per use"
