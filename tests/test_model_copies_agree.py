"""A store's model classes, copied from classes peewee declared once, are what peewee declares.

``build_models`` copies its three classes from prototypes
(``peewee_internals.copy_models``) instead of declaring them through peewee's
metaclass for every store; portable mode declares them. Here each option of
``build_models`` is built both ways and the two compared: every attribute of
each class, its ``Metadata``, fields, accessors and schema manager (objects
of the class graph named by model and field, everything else by value), the
SQL that creates the tables and indexes, and what the classes do on a
database. Copies must also share nothing mutable with each other.
"""

from __future__ import annotations

import collections
import types
from typing import Any

import peewee
import pytest

import cross_auth_lite as lite
from cross_auth_lite.adapters import peewee_internals
from cross_auth_lite.adapters.portable import PORTABLE_ENV
from cross_auth_lite.database.models import StoreModels, build_models
from cross_auth_lite.encryption import TokenCipher
from tests.factories import connect, signup

KEY = "Iyn9xP484xb-QVMITOtcbujZv-2DHkue7n4pZWczqyw="

OPTIONS = [
    pytest.param({}, id="default"),
    pytest.param({"shared_connections": True}, id="shared"),
    pytest.param({"cipher": "key"}, id="encrypted"),
    pytest.param({"tokens_locked": True}, id="locked"),
]


def _build(database: peewee.Database, options: dict[str, Any]) -> StoreModels:
    if options.get("cipher") == "key":
        options = {**options, "cipher": TokenCipher(KEY)}
    return build_models(database, **options)


@pytest.fixture
def declared(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``build_models`` as portable mode runs it: each class declared by peewee."""

    def declare(database: peewee.Database, options: dict[str, Any]) -> StoreModels:
        with monkeypatch.context() as patch:
            patch.setenv(PORTABLE_ENV, "1")
            return _build(database, options)

    return declare


def _name(value: Any, own: frozenset[type]) -> Any:
    """``value`` described by what it is, objects of a class graph by model and field name.

    A model or field is also marked as of the classes described (``own``) or not.
    """
    if isinstance(value, peewee.Field):
        model = getattr(value, "model", None)
        return (
            "field",
            type(value).__name__,
            getattr(model, "__name__", None),
            value.name,
            model in own,
        )
    if isinstance(value, peewee.ModelBase):
        return ("model", value.__name__, value in own)
    if isinstance(value, peewee.Database):
        return "database"
    if isinstance(value, peewee.Table):
        return ("table", value.__name__, _name(value._model, own))
    if isinstance(value, peewee.ModelIndex):
        where = peewee.SqliteDatabase(None).get_sql_context().sql(value._where).query()
        return ("index", value._name, value._unique, _name(value._table, own), where)
    if isinstance(value, (dict, collections.defaultdict)):
        return (type(value).__name__, [(_name(k, own), _name(v, own)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_name(item, own) for item in value])
    if isinstance(value, set):
        return ("set", sorted(map(repr, (_name(item, own) for item in value))))
    if isinstance(value, types.FunctionType):
        return ("function", value.__module__, value.__name__)
    if isinstance(value, type):
        return ("class", value.__name__, value.__module__, [b.__name__ for b in value.__bases__])
    if type(value).__name__ == "_SortedFieldList":
        assert value._keys == sorted(value._keys) == [item._sort_key for item in value._items]
        return ("sorted fields", [_name(item, own) for item in value._items])
    if isinstance(value, (peewee.Metadata, peewee.SchemaManager)):
        return (type(value).__name__, _name(value.model, own))
    if isinstance(value, (peewee.FieldAccessor, peewee.BackrefAccessor, peewee.ObjectIdAccessor)):
        return (
            type(value).__name__,
            sorted((k, repr(_name(v, own))) for k, v in vars(value).items()),
        )
    if isinstance(value, TokenCipher):
        return "cipher"
    return value


def describe(models: StoreModels) -> list[Any]:
    """Everything of ``models`` that peewee's metaclass decides, named comparably."""
    described: list[Any] = []
    own = frozenset(models.all())
    for model in models.all():
        meta: Any = model._meta
        described.append(("class", model.__name__, model.__qualname__, model.__module__))
        described.append(("bases", model.__bases__, type(model)))
        for key, value in sorted(vars(model).items()):  # the order of a class's dict is not used
            if key not in ("__repr__", "_lite_store_shape", "__dict__", "__weakref__"):
                described.append(("attribute", model.__name__, key, _name(value, own)))
        for key, value in sorted(vars(meta).items()):
            if key == "_table":
                continue  # a cache, filled by the first query
            described.append(("meta", model.__name__, key, _name(value, own)))
        for field in meta.sorted_fields:
            for key, value in sorted(vars(field).items()):
                if key in ("_order", "_sort_key"):
                    continue  # a process-wide counter: the order is in sorted_fields
                described.append(("field", model.__name__, field.name, key, _name(value, own)))
        for key, value in sorted(vars(model._schema).items()):
            described.append(("schema", model.__name__, key, _name(value, own)))
        described.append(("table", model._schema._create_table().query()))
        described.append(("indexes", [c.query() for c in model._schema._create_indexes()]))
    return described


@pytest.mark.parametrize("options", OPTIONS)
def test_a_copy_is_what_peewee_declares(declared: Any, options: dict[str, Any]) -> None:
    database = lite.LiteSqliteDatabase(":memory:")
    copied, built = _build(database, options), declared(database, options)
    assert describe(copied) == describe(built)
    for model in copied.all():
        assert model._meta.database is database
        assert repr(model()) == repr(getattr(built, model.__name__)())


def test_copies_share_nothing_that_changes() -> None:
    database = lite.LiteSqliteDatabase(":memory:")
    first, second = build_models(database), build_models(database)
    before = describe(second)
    assert first.User.DoesNotExist is not second.User.DoesNotExist
    for name in ("User", "SocialAccount", "Session"):
        one, other = getattr(first, name), getattr(second, name)
        assert one is not other
        assert not set(map(id, one._meta.fields.values())) & set(
            map(id, other._meta.fields.values())
        )
        assert one._meta.indexes is not other._meta.indexes
    first.User._meta.add_field("nickname", peewee.TextField(default="anonymous"))
    first.Session._meta.indexes.append((("token_hash", "user"), False))
    first.User._meta.backrefs.clear()
    assert describe(second) == before
    assert describe(build_models(database)) == before


def test_copies_work_on_their_own_database(tmp_path: Any) -> None:
    one, other = lite.open(tmp_path / "one"), lite.open(tmp_path / "other")
    try:
        user, _ = signup(one.accounts, "ada@example.com", "gh-1")
        connect(one.accounts, user.id, "gh-2")
        users = one.models.User
        accounts = users.get_by_id(user.id).social_accounts.order_by(one.models.SocialAccount.id)
        assert [a.provider_user_id for a in accounts] == ["gh-1", "gh-2"]
        assert one.models.SocialAccount.get_by_id(1).user.email == "ada@example.com"
        assert other.models.User.select().count() == 0
        with pytest.raises(other.models.User.DoesNotExist):
            other.models.User.get_by_id(user.id)
        with pytest.raises(peewee.DoesNotExist) as missing:
            users.get_by_id(user.id + 1)
        assert not isinstance(missing.value, other.models.User.DoesNotExist)
    finally:
        one.close()
        other.close()


def test_classes_it_does_not_know_are_not_copied() -> None:
    """A field keeping per-database state, or a reference to a later class: declared instead."""

    class Owner(peewee.Model):
        name = peewee.TextField()

    class Post(peewee.Model):
        owner = peewee.ForeignKeyField(Owner, backref="posts")

    class Attachment(peewee.Model):
        data = peewee.BlobField()

    database = peewee.SqliteDatabase(":memory:")
    assert peewee_internals.copy_models([Attachment], database) is None
    assert peewee_internals.copy_models([Post, Owner], database) is None
    copied = peewee_internals.copy_models([Owner, Post], database)
    assert copied is not None
    owner, post = copied
    assert post.owner.rel_model is owner
    assert owner.posts.rel_model is post
    assert owner._meta.database is database
    assert Owner._meta.database is None
    database.create_tables(copied)
    ada = owner.create(name="ada")
    post.create(owner=ada)
    assert [p.owner.name for p in ada.posts] == ["ada"]
