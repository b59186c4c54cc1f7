"""A mypy plugin for Piccolo: every table has the primary key ``id`` (a ``Serial``).

Piccolo adds ``id = Serial(primary_key=True)`` to each ``Table`` subclass at run time (in
``Table.__init_subclass__``) unless the class declares its own primary key, so mypy cannot see
it and reported every ``Case.id`` / ``case.id`` as a missing attribute. ``Serial``'s
``__get__`` overloads then type ``Case.id`` as the column and ``case.id`` as ``int``, as for
any declared column. Columns declared in the class need nothing: they are class attributes.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import MDEF, SymbolTableNode, Var
from mypy.plugin import ClassDefContext, Plugin
from mypy.types import Instance

TABLE = "piccolo.table.Table"
SERIAL = "piccolo.columns.column_types.Serial"


def _add_primary_key(ctx: ClassDefContext) -> None:
    info = ctx.cls.info
    for base in info.mro:  # a primary key declared here or inherited wins
        if "id" in base.names and base.fullname != TABLE:
            return
    serial = ctx.api.lookup_fully_qualified_or_none(SERIAL)
    if serial is None or not hasattr(serial.node, "names"):
        ctx.api.defer()  # Piccolo's module is not analysed yet
        return
    var = Var("id", Instance(serial.node, []))  # type: ignore[arg-type]
    var.info = info
    var._fullname = f"{info.fullname}.id"
    var.is_classvar = False
    info.names["id"] = SymbolTableNode(MDEF, var, plugin_generated=True)


class PiccoloPlugin(Plugin):
    def get_base_class_hook(self, fullname: str
                            ) -> Callable[[ClassDefContext], None] | None:
        sym = self.lookup_fully_qualified(fullname)
        if sym is not None and hasattr(sym.node, "mro"):
            if any(base.fullname == TABLE for base in sym.node.mro):  # type: ignore[union-attr]
                return _add_primary_key
        elif fullname == TABLE:
            return _add_primary_key
        return None


def plugin(version: str) -> type[Plugin]:
    return PiccoloPlugin
