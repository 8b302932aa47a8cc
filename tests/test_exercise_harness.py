"""The checker of tests/test_models_complete.py and tests/test_fuzz.py sees what it must see.

Its parts are tested on their own (the shortest string matching a regex, the minimal instance of
a JSON schema, a value of a Python type), then the whole checker is shown a package that works
and the same package broken on purpose in each way a generator bug breaks one: a model that cannot
be completed, an alias that raises at import, a method whose annotation does not resolve, a
response parsed into the wrong type and a request body serialised under the wrong name.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import pydantic
import pytest

from generator.runtime.models import ApiModel, tag_by_property
from tests.conftest import SPECS
from tests.support.exercise import (
    CannotBuild,
    InstanceBuilder,
    Values,
    failure_lines,
    run_exercise,
    shortest_match,
)

# ---------------------------------------------------------------- the regex writer


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"^[a-z]+$", "a"),
        (r"^\d{3}-\d{2}$", "000-00"),
        (r"^(foo|barbaz)\d?$", "foo"),
        (r"[^a-z0-9]", "A"),
        (r"^x(-y)*$", "x"),
        (r"^\w+@\w+\.com$", "a@a.com"),
        (r"^(ab)\1$", "abab"),
        (r"(?i)^abc$", "abc"),
        (r"^\s\S\D\W$", " aa "),
        (r"^[A-Z]{2}[0-9]{2,4}$", "AA00"),
        (r"", ""),
    ],
)
def test_shortest_match(pattern: str, expected: str) -> None:
    assert shortest_match(pattern) == expected
    assert re.search(pattern, expected)


def test_shortest_match_grows_repeats_to_the_minimum_length() -> None:
    text = shortest_match(r"^[a-z]+\d*$", min_length=5)
    assert len(text) >= 5 and re.fullmatch(r"[a-z]+\d*", text)
    assert shortest_match(r"^ab?$", min_length=2) == "ab"


@pytest.mark.parametrize(
    ("pattern", "limits"),
    [
        (r"(?=a)a", {}),
        (r"(?!b)a", {}),
        (r"(?<=a)b", {}),
        (r"^(a)?(?(1)b|c)$", {}),
        (r"^a{5}$", {"max_length": 3}),
        (r"^ab?$", {"min_length": 3}),
    ],
)
def test_shortest_match_gives_up_cleanly(pattern: str, limits: dict[str, int]) -> None:
    with pytest.raises(CannotBuild):
        shortest_match(pattern, **limits)


# ---------------------------------------------------------------- the instance builder


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, ""),
        ({"type": "string", "minLength": 3}, "aaa"),
        ({"type": "string", "format": "date-time"}, "2000-01-01T00:00:00Z"),
        ({"type": "string", "enum": ["b", "a"]}, "b"),
        ({"const": 7}, 7),
        ({"type": "integer", "minimum": 3, "maximum": 9}, 3),
        ({"type": "integer", "exclusiveMinimum": 3}, 4),
        ({"type": "integer", "maximum": -4, "multipleOf": 3}, -6),
        ({"type": "number", "minimum": 0.3, "multipleOf": 0.25}, 0.5),
        ({"type": "number", "exclusiveMaximum": -1}, -2.0),
        ({"type": "boolean"}, False),
        ({"type": "array", "items": {"type": "integer"}, "minItems": 2}, [0, 0]),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
                "required": ["b"],
            },
            {"b": 0},
        ),
        (
            {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 1},
            {"key1": 0},
        ),
        ({"anyOf": [{"type": "null"}, {"type": "integer"}]}, 0),
        ({"type": ["null", "string"]}, ""),
        (
            {
                "allOf": [
                    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                    {"properties": {"a": {"const": "x"}}},
                ]
            },
            {"a": "x"},
        ),
        ({"allOf": [{"anyOf": [{"type": "string"}, {"type": "integer"}]}, {"minimum": 2}]}, ""),
        ({}, None),
    ],
)
def test_minimal_instance(schema: dict[str, Any], expected: Any) -> None:
    assert InstanceBuilder(schema).build() == expected
    assert InstanceBuilder(schema).build() == expected  # deterministic


def test_required_recursion_is_cut_at_a_nullable_or_empty_branch() -> None:
    node = {
        "type": "object",
        "required": ["next", "children", "value"],
        "properties": {
            "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
            "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
            "value": {"anyOf": [{"$ref": "#/$defs/Json"}, {"type": "null"}]},
        },
    }
    json_value = {
        "anyOf": [
            {"type": "array", "items": {"$ref": "#/$defs/Json"}, "minItems": 1},
            {"type": "string"},
        ]
    }
    root = {"$defs": {"Node": node, "Json": json_value}, "$ref": "#/$defs/Node"}
    built = InstanceBuilder(root).build()
    assert built["children"] == [] and built["next"]["next"] is None
    assert built["value"] == [
        ""
    ]  # the array branch first, then the cheapest (a string) once Json repeats


def test_an_impossible_recursion_is_a_harness_limit_not_a_hang() -> None:
    root = {
        "$defs": {
            "Loop": {
                "type": "object",
                "required": ["me"],
                "properties": {"me": {"$ref": "#/$defs/Loop"}},
            }
        },
        "$ref": "#/$defs/Loop",
    }
    with pytest.raises(CannotBuild, match="recursion"):
        InstanceBuilder(root).build()


class Cat(ApiModel):
    pet_type: str = pydantic.Field(validation_alias="petType", serialization_alias="petType")
    name: str


class Dog(ApiModel):
    pet_type: str = pydantic.Field(validation_alias="petType", serialization_alias="petType")
    good: bool


Pet = Annotated[
    Union[Annotated[Cat, pydantic.Tag("Cat")], Annotated[Dog, pydantic.Tag("Dog")]],
    pydantic.Discriminator(tag_by_property("petType", {"dog": "Dog", "cat": "Cat"})),
]


def test_values_reach_each_member_of_a_callable_discriminated_union() -> None:
    values = Values()
    pet = values.value(Pet)
    assert isinstance(pet, Cat) and pet.pet_type == "cat"
    assert values.value(list[Pet]) == []
    assert values.value(Literal["a", "b"]) == "a"
    assert values.value(Cat | dict[str, Any]) == Cat(
        petType="", name=""
    )  # plain-dict alternatives are left out


def test_a_value_the_type_rejects_is_a_harness_limit() -> None:
    rejected = Annotated[
        str,
        pydantic.AfterValidator(lambda v: v if v else (_ for _ in ()).throw(ValueError("empty"))),
    ]
    with pytest.raises(CannotBuild, match="rejected"):
        Values().value(rejected)


# ---------------------------------------------------------------- the whole checker


@pytest.fixture(scope="module")
def features_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generator.options import GenerateOptions
    from generator.pipeline import generate
    from generator.write import write_output

    out = tmp_path_factory.mktemp("harness") / "pristine"
    result = generate(
        SPECS / "features" / "schemas.yaml", GenerateOptions(package_name="harness_schemas")
    )
    write_output(out, result.files, "accessgen test")
    return out


def _broken_copy(pristine: Path, tmp_path: Path, file: str, old: str, new: str) -> Path:
    out = tmp_path / "broken"
    shutil.copytree(pristine, out)
    path = out / "harness_schemas" / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {file}: the generated code changed, update this test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return out


def _exercise(out: Path) -> dict[str, Any]:
    return run_exercise([(out, "harness_schemas")])[0]


def test_the_checker_passes_a_working_package(features_package: Path) -> None:
    report = _exercise(features_package)
    assert report["failures"] == [] and report["limits"] == []
    assert report["models_total"] >= 9 and report["models_complete"] == report["models_total"]
    assert report["aliases_usable"] == report["aliases_total"] >= 2
    assert report["instances_built"] == report["models_total"] + report["aliases_total"]
    assert report["operations_total"] >= 4
    assert (
        report["operations_request_built"]
        == report["operations_response_parsed"]
        == report["operations_total"]
    )
    assert (
        report["bodies_checked"] >= 1 and report["responses_checked"] >= report["operations_total"]
    )


def test_the_checker_reports_a_model_that_cannot_be_completed(
    features_package: Path, tmp_path: Path
) -> None:
    out = _broken_copy(
        features_package,
        tmp_path,
        "models/__init__.py",
        "children: list[TreeNode] | None",
        "children: list[MissingNode] | None",
    )
    report = _exercise(out)
    lines = failure_lines(report)
    assert any(
        line.startswith("model: models.TreeNode: PydanticUndefinedAnnotation") for line in lines
    ), lines
    assert report["models_complete"] < report["models_total"]
    assert any("getTree" in line or "get_tree" in line for line in lines), lines
    assert report["operations_response_parsed"] < report["operations_total"]


def test_the_checker_reports_an_alias_that_raises_at_import(
    features_package: Path, tmp_path: Path
) -> None:
    out = _broken_copy(
        features_package,
        tmp_path,
        "models/__init__.py",
        "\nShape: TypeAlias = ",
        "\nShape: TypeAlias = dict[str, Shape] | ",
    )
    report = _exercise(out)
    assert report["import_error"] is not None and report["import_error"].startswith(
        "NameError"
    ), report["import_error"]
    assert (
        report["models_total"] >= 9 and report["models_complete"] == 0
    )  # counted from the file, none usable
    assert report["aliases_total"] >= 2 and report["aliases_usable"] == 0


def test_the_checker_reports_an_annotation_that_does_not_resolve(
    features_package: Path, tmp_path: Path
) -> None:
    out = _broken_copy(
        features_package,
        tmp_path,
        "api/tree.py",
        ') -> models.TreeNode:\n        """GET /tree',
        ') -> models.TreeNod:\n        """GET /tree',
    )
    lines = failure_lines(_exercise(out))
    assert any(
        line.startswith("hints: harness_schemas.api.tree.AuthenticatedTreeApi.get_tree")
        or line.startswith("hints: harness_schemas.api.tree.TreeApi.get_tree")
        for line in lines
    ), lines


def test_the_checker_reports_a_response_parsed_into_the_wrong_type(
    features_package: Path, tmp_path: Path
) -> None:
    out = _broken_copy(
        features_package,
        tmp_path,
        "api/tree.py",
        'ResponseSpec("200", "json", lambda: models.TreeNode)',
        'ResponseSpec("200", "json", lambda: models.Circle)',
    )
    lines = failure_lines(_exercise(out))
    assert any(
        line.startswith("response: api.tree.get_tree") and "return annotation rejects" in line
        for line in lines
    ), lines


def test_the_checker_reports_a_request_body_sent_under_the_wrong_name(
    features_package: Path, tmp_path: Path
) -> None:
    out = _broken_copy(
        features_package,
        tmp_path,
        "models/__init__.py",
        'pet_type: str = pydantic.Field(validation_alias="petType", serialization_alias="petType")',
        'pet_type: str = pydantic.Field(validation_alias="petType", serialization_alias="pet_type")',
    )
    lines = failure_lines(_exercise(out))
    assert any(
        line.startswith("request: api.pets.create_pet") and "JSON body sent is not valid" in line
        for line in lines
    ), lines
