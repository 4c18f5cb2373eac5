"""The extension hooks of a subgraph request driven without Strawberry's per-request context
managers: `LeanExtensionsRunner` (made by `shared.schema.SubgraphSchema.create_extensions_runner`
when every extension of the request is one of the subgraphs' own).

Strawberry's `ExtensionContextManagerBase` inspects every extension's hook per request and kind,
wraps it with `contextlib.contextmanager` and runs an `AsyncExitStack`: about 8% of a subgraph's
CPU for a list query (docs/performance.md, step 39). `Hooks` runs the same generator hooks in the
same order with the same semantics; `tests/shared/test_lean_hooks.py` compares both runners and
pins the Strawberry code this mirrors (it fails on a Strawberry upgrade by design).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any, Final, Literal

from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

HOOKS: Final = ("on_operation", "on_parse", "on_validate", "on_execute")
Hook = Callable[[SchemaExtension], Generator[None, None, None]]


def hooks_of(
    cls: type[SchemaExtension], ours: tuple[type[SchemaExtension], ...]
) -> dict[str, Hook | None] | None:
    """The hooks of an extension class the lean runner may drive, or None: only `ours` (the
    subgraphs': `OperationMetrics`, `SubgraphOperation`), each hook either Strawberry's default
    (none) or a plain generator function, no resolver middleware, Strawberry's own
    `get_results`."""
    if not issubclass(cls, ours):
        return None
    if cls.resolve is not SchemaExtension.resolve or cls.get_results is not (
        SchemaExtension.get_results
    ):
        return None
    hooks: dict[str, Hook | None] = {}
    for name in HOOKS:
        hook = getattr(cls, name)
        if hook is getattr(SchemaExtension, name):
            hooks[name] = None
        elif inspect.isgeneratorfunction(hook):
            hooks[name] = hook
        else:
            return None
    if cls.on_stream_result is not SchemaExtension.on_stream_result:
        return None
    return hooks


def _exit_hook(generator: Generator[None, None, None], error: BaseException | None) -> bool:
    """`contextlib.contextmanager`'s `__exit__` for one entered generator hook: True when the
    hook suppressed `error`."""
    if error is None:
        try:
            next(generator)
        except StopIteration:
            return False
        try:
            raise RuntimeError("generator didn't stop")
        finally:
            generator.close()
    traceback = error.__traceback__
    try:
        generator.throw(error)
    except StopIteration as stop:
        return stop is not error
    except RuntimeError as raised:
        if raised is error:
            raised.__traceback__ = traceback
            return False
        if isinstance(error, StopIteration) and raised.__cause__ is error:
            error.__traceback__ = traceback
            return False
        raise
    except BaseException as raised:
        if raised is not error:
            raise
        raised.__traceback__ = traceback
        return False
    try:
        raise RuntimeError("generator didn't stop after throw()")
    finally:
        generator.close()


class Hooks:
    """One kind of hook (`on_operation`, ...) of a request's extensions, entered in their order
    and left in reverse, with the semantics of Strawberry's `ExtensionContextManagerBase`
    (`contextlib.contextmanager` hooks on an exit stack): a hook failing on entry leaves the
    ones entered before it suspended (as Strawberry does: they finish when collected); on exit
    each gets the error in flight (or the one the hook after it raised); a hook suppressing it
    spares the hooks outside it but the error still leaves the block (Strawberry ignores the
    exit stack's answer)."""

    __slots__ = ("entered", "hooks")

    def __init__(self, hooks: list[tuple[Hook, SchemaExtension]]) -> None:
        self.hooks = hooks
        self.entered: list[Generator[None, None, None]] = []

    def __enter__(self) -> None:
        entered = self.entered
        for hook, extension in self.hooks:
            generator = hook(extension)
            try:
                next(generator)
            except StopIteration:
                raise RuntimeError("generator didn't yield") from None
            entered.append(generator)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        pending: BaseException | None = None
        entered = self.entered
        while entered:
            generator = entered.pop()
            try:
                if _exit_hook(generator, error):
                    pending = None
                    error = None
            except BaseException as raised:  # the next hook out gets it (ExitStack's rule)
                if error is not None and raised is not error and raised.__context__ is None:
                    raised.__context__ = error
                pending = error = raised
        if pending is not None:
            raise pending
        # Strawberry drops the exit stack's answer: a hook's suppression only spares the hooks
        # outside it, the error still leaves the block.
        return False

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        return self.__exit__(exc_type, error, traceback)


class LeanExtensionsRunner(SchemaExtensionsRunner):
    """Strawberry's runner, with the hooks of each kind driven by `Hooks` instead of an
    `ExtensionContextManagerBase` (which, per request and kind, inspects every extension's
    hook, wraps it with `contextlib.contextmanager` and runs an `AsyncExitStack`: about 8% of
    a subgraph's CPU for a list query). The same hooks run, in the same order, with the same
    results and errors. Made by `SubgraphSchema.create_extensions_runner` only when every
    extension of the request is one of ours with plain generator hooks (`hooks_of`); with
    any other (tracing's, Strawberry's directives extension) the request has Strawberry's own
    runner. Relies on Strawberry 0.341's `Schema.execute` entering `operation()`, `parsing()`,
    `validation()` and `executing()` of the runner `create_extensions_runner` returns
    (`tests/shared/test_lean_hooks.py` pins the Strawberry code this mirrors)."""

    def __init__(
        self,
        execution_context: ExecutionContext,
        extensions: list[SchemaExtension],
        hooks: dict[str, list[tuple[Hook, SchemaExtension]]],
    ) -> None:
        super().__init__(execution_context, extensions)
        self._hooks = hooks

    def operation(self) -> Any:
        return Hooks(self._hooks["on_operation"])

    def parsing(self) -> Any:
        return Hooks(self._hooks["on_parse"])

    def validation(self) -> Any:
        return Hooks(self._hooks["on_validate"])

    def executing(self) -> Any:
        return Hooks(self._hooks["on_execute"])
