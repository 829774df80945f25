"""Unit tests of jsonsafe.Copier: every rule of how a shared state or event
data is copied, and the limits that bound the copy and the work."""

import dataclasses
import datetime
import decimal
import enum
import json
import pathlib
import unittest
import uuid

import support  # noqa: F401  (puts the package on sys.path)
from agora_cloud.jsonsafe import REDACTED, Copier


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Loud:
    def __repr__(self):
        return "L" * 1000


class Broken:
    def __repr__(self):
        raise RuntimeError("no repr")


def copy(value, **limits):
    return Copier(**limits).copy(value)


class JsonSafeTest(unittest.TestCase):
    def test_json_values_are_copied_as_they_are(self):
        value = {"s": "text", "i": 42, "f": 1.5, "b": True, "n": None, "l": [1, "two", [3]], "d": {"k": {}}}
        out, truncated = copy(value)
        self.assertEqual(out, value)
        self.assertFalse(truncated)

    def test_the_copy_does_not_change_with_the_original(self):
        state = {"items": [1, 2], "inner": {"a": 1}}
        out, _ = copy(state)
        state["items"].append(3)
        state["inner"]["a"] = 2
        state["new"] = True
        self.assertEqual(out, {"items": [1, 2], "inner": {"a": 1}})

    def test_numbers_a_double_cannot_hold_become_text(self):
        out, _ = copy({"big": 10 ** 400, "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"),
                       "max": 2 ** 1000})
        self.assertEqual(out["big"], str(10 ** 400))
        self.assertEqual((out["nan"], out["inf"], out["ninf"]), ("NaN", "Infinity", "-Infinity"))
        self.assertEqual(out["max"], 2 ** 1000)
        json.dumps(out, allow_nan=False)

    def test_keys_become_text_as_json_would_spell_them(self):
        out, _ = copy({1: "a", 2.5: "b", None: "c", False: "d", (1, 2): "e"})
        self.assertEqual(out, {"1": "a", "2.5": "b", "null": "c", "false": "d", "(1, 2)": "e"})

    def test_other_values_follow_the_documented_conversions(self):
        when = datetime.datetime(2024, 11, 26, 12, 0, 0, tzinfo=datetime.timezone.utc)
        ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
        out, _ = copy({
            "tuple": (1, 2), "set": {3, 1, 2}, "mixed_set": {1, "a"}, "frozen": frozenset(["b", "a"]),
            "dc": Point(1, 2), "enum": Color.RED, "when": when, "day": datetime.date(2024, 11, 26),
            "uuid": ident, "dec": decimal.Decimal("1.10"), "path": pathlib.PurePosixPath("/tmp/x"),
            "bytes": b"ab", "obj": Loud(), "broken": Broken(),
        })
        self.assertEqual(out["tuple"], [1, 2])
        self.assertEqual(out["set"], [1, 2, 3])
        self.assertEqual(sorted(map(str, out["mixed_set"])), ["1", "a"])
        self.assertEqual(out["frozen"], ["a", "b"])
        self.assertEqual(out["dc"], {"x": 1, "y": 2})
        self.assertEqual(out["enum"], "red")
        self.assertEqual(out["when"], "2024-11-26T12:00:00+00:00")
        self.assertEqual(out["day"], "2024-11-26")
        self.assertEqual(out["uuid"], str(ident))
        self.assertEqual(out["dec"], "1.10")
        self.assertEqual(out["path"], "/tmp/x")
        self.assertEqual(out["bytes"], "b'ab'")
        self.assertTrue(out["obj"].startswith("L" * 200 + "…[800 more characters]"))
        self.assertEqual(out["broken"], "<Broken>")
        json.dumps(out, allow_nan=False)

    def test_subclasses_of_json_types_are_their_base_values(self):
        class Name(str):
            def __str__(self):
                return "other"

        class Count(int):
            pass

        out, _ = copy({"name": Name("x"), "count": Count(3)})
        self.assertEqual(out, {"name": "x", "count": 3})
        self.assertIs(type(out["name"]), str)
        self.assertIs(type(out["count"]), int)

    def test_a_container_holding_itself_becomes_cycle(self):
        state = {"a": 1}
        state["self"] = state
        lst = [1]
        lst.append(lst)
        out, truncated = copy({"state": state, "list": lst})
        self.assertEqual(out, {"state": {"a": 1, "self": "<cycle>"}, "list": [1, "<cycle>"]})
        self.assertTrue(truncated)

    def test_the_same_object_twice_is_not_a_cycle(self):
        shared = {"k": 1}
        out, truncated = copy({"a": shared, "b": shared})
        self.assertEqual(out, {"a": {"k": 1}, "b": {"k": 1}})
        self.assertFalse(truncated)

    def test_nesting_deeper_than_the_limit_is_cut(self):
        deep = inner = {}
        for _ in range(10):
            inner["x"] = {}
            inner = inner["x"]
        out, truncated = copy(deep, max_depth=3)
        self.assertEqual(out, {"x": {"x": {"x": "<nested deeper than 3 levels>"}}})
        self.assertTrue(truncated)

    def test_long_strings_are_cut_to_a_quarter_of_the_budget(self):
        out, truncated = copy({"text": "a" * 10000}, max_bytes=4096)
        self.assertEqual(out["text"], "a" * 1024 + "…[8976 more characters]")
        self.assertTrue(truncated)

    def test_past_the_budget_the_rest_of_a_dict_and_a_list_is_counted_not_copied(self):
        state = {f"k{i:03d}": "v" * 50 for i in range(200)}
        out, truncated = copy(state, max_bytes=2000)
        self.assertTrue(truncated)
        self.assertIn("…", out)
        kept = len(out) - 1
        self.assertEqual(out["…"], f"{200 - kept} more keys not captured")
        self.assertLess(len(json.dumps(out)), 2600)
        lst, _ = copy(list(range(10000)), max_bytes=1000)
        self.assertTrue(lst[-1].startswith("… ") and lst[-1].endswith(" more items not captured"))
        self.assertEqual(lst[:-1], list(range(len(lst) - 1)))

    def test_shared_references_cannot_make_the_work_explode(self):
        level = [0] * 1000
        for _ in range(5):
            level = [level] * 1000  # 10**18 leaves if expanded
        out, truncated = copy({"x": level}, max_bytes=10000)
        self.assertTrue(truncated)
        self.assertLess(len(json.dumps(out)), 40000)

    def test_secret_keys_are_redacted_at_any_depth_and_counters_are_not(self):
        out, _ = copy({"password": "p", "API-Key": "k", "openai_api_key": "o", "auth_token": "t",
                       "nested": [{"Authorization": "Bearer x", "client_secret": "s"}],
                       "max_tokens": 100, "tokens": 7, "keyboard": "k"})
        self.assertEqual(out["password"], REDACTED)
        self.assertEqual(out["API-Key"], REDACTED)
        self.assertEqual(out["openai_api_key"], REDACTED)
        self.assertEqual(out["auth_token"], REDACTED)
        self.assertEqual(out["nested"], [{"Authorization": REDACTED, "client_secret": REDACTED}])
        self.assertEqual((out["max_tokens"], out["tokens"], out["keyboard"]), (100, 7, "k"))

    def test_redaction_can_be_turned_off(self):
        out, _ = copy({"password": "p"}, redact=())
        self.assertEqual(out, {"password": "p"})

    def test_a_dict_changed_while_copied_gives_a_marker_not_an_exception(self):
        class Shifty(dict):
            def items(self):
                raise RuntimeError("dictionary changed size during iteration")

        out, truncated = copy(Shifty(a=1))
        self.assertEqual(out, "<could not be copied: RuntimeError>")
        self.assertTrue(truncated)


if __name__ == "__main__":
    unittest.main()
