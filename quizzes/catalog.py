"""Where questions come from: the banks (data) and the generated templates (code).

`Catalog` finds every bank file and imports every template module (`quizzes/templates/*.py`),
answers `find(question_id)` (a bank id, or `template-id@variant` for a generated one) and
draws seeded selections (`select`). Generated questions are only built when asked, so the
first question shows without building the rest.

Banks come from `quizzes/banks/` unless `CHEATSHEET_BANKS` names other directories
(separated by the OS path separator), which the tests use for their fixture banks.
"""

from __future__ import annotations

import importlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

from formulas.core import TOPICS
from formulas.errors import CheatsheetError
from quizzes.banks import BANK_DIR, EXTRA_TOPICS, bank_files, load_bank
from quizzes.questions import KINDS, TEMPLATES, Question, Template

TEMPLATE_DIR = Path(__file__).parent / "templates"
VARIANT_RANGE = 1_000_000
# The registry's topics (formulas.core.TOPICS, the one topic list; importing formulas.core
# loads no topic module) and the quiz-only ones.
COURSE_TOPICS = (*TOPICS, *EXTRA_TOPICS)
_template_errors: dict[str, str] = {}
_imported: set[str] = set()


def _template_modules() -> list[str]:
    return [p.stem for p in sorted(TEMPLATE_DIR.glob("*.py")) if not p.stem.startswith("_")]


def load_templates(topic: str | None = None) -> dict[str, str]:
    """Import the template modules (once each): every one, or for a single topic only the
    general modules and `quizzes/templates/<topic>.py`. Returns {module: error} of failures."""
    for stem in _template_modules():
        if topic not in (None, "all") and stem in COURSE_TOPICS and stem != topic:
            continue
        if stem in _imported:
            continue
        _imported.add(stem)
        module = f"quizzes.templates.{stem}"
        try:
            importlib.import_module(module)
        except Exception as error:  # noqa: BLE001 - one broken module must not stop quizzes
            _template_errors[module] = f"{type(error).__name__}: {error}"
    return dict(_template_errors)


# --------------------------------------------------------------------------------------------
# Which module registers which template: a small cache, so that `check template-id@variant`
# imports one template module instead of all of them (start-up is what `check` costs).


def _template_cache_path() -> Path:
    home = os.environ.get("CHEATSHEET_HOME")
    if home:
        return Path(home).expanduser() / "cache" / "template-modules.json"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("cheatsheet")) / "template-modules.json"


def _template_sources() -> dict[str, list[int]]:
    """Each template module's (mtime, size): the cache is valid while these are unchanged."""
    sources = {}
    for path in sorted(TEMPLATE_DIR.glob("*.py")):
        status = path.stat()
        sources[path.stem] = [status.st_mtime_ns, status.st_size]
    return sources


def module_of_template(template_id: str) -> str | None:
    """The module stem that registers `template_id`, from the cache (None: unknown or stale)."""
    import json

    try:
        cached = json.loads(_template_cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if cached.get("sources") != _template_sources():
        return None
    return cached.get("modules", {}).get(template_id)


def _remember_template_modules() -> None:
    """Write the template -> module cache after every module was imported (best effort)."""
    import json

    modules = {
        tid: t.make.__module__.rpartition(".")[2]
        for tid, t in TEMPLATES.items()
        if t.make.__module__.startswith("quizzes.templates.")
    }
    path = _template_cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"sources": _template_sources(), "modules": modules}))
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only cache costs speed, not correctness


def load_template(template_id: str) -> None:
    """Make `template_id` registered, importing as little as possible: its own module when
    the cache knows it, else every module (and the cache is written for next time)."""
    if template_id in TEMPLATES:
        return
    stem = module_of_template(template_id)
    if stem is not None and stem not in _imported:
        _imported.add(stem)
        try:
            importlib.import_module(f"quizzes.templates.{stem}")
        except Exception as error:  # noqa: BLE001 - reported like load_templates does
            _template_errors[f"quizzes.templates.{stem}"] = f"{type(error).__name__}: {error}"
    if template_id not in TEMPLATES:
        load_templates()
        _remember_template_modules()


def bank_directories() -> list[Path]:
    configured = os.environ.get("CHEATSHEET_BANKS")
    if configured:
        return [Path(part) for part in configured.split(os.pathsep) if part]
    return [BANK_DIR]


@dataclass(frozen=True)
class Pick:
    """One slot of a quiz: a bank question, or a template with the variant it will draw."""

    question_: Question | None = None
    template: Template | None = None
    variant: int | None = None

    @property
    def id(self) -> str:
        if self.question_ is not None:
            return self.question_.id
        return f"{self.template.id}@{self.variant}"

    @property
    def card_id(self) -> str:
        """The FSRS card this pick reviews: the question's (a fact card for recall forms);
        a recall template's fact card once its variant is drawn, before that the fact of
        its first formula (`card_ids` has them all)."""
        from quizzes.repetition import FACT_PREFIX, RECALL_KINDS

        if self.question_ is not None:
            return self.question_.card_id
        if self.template.kind not in RECALL_KINDS:
            return self.template.id
        if self.variant is not None:
            try:
                return self.question().card_id
            except CheatsheetError:
                return self.template.id
        if self.template.formulas:
            return FACT_PREFIX + self.template.formulas[0]
        return self.template.id

    @property
    def card_ids(self) -> tuple[str, ...]:
        """Every card this pick can review, what `plan` counts as new material: a recall
        template with no variant drawn asks a fact of each of its formulas (its variants
        draw among them); any other pick its one card."""
        from quizzes.repetition import FACT_PREFIX, RECALL_KINDS

        recall = self.question_ is None and self.template.kind in RECALL_KINDS
        if recall and self.variant is None and self.template.formulas:
            return tuple(FACT_PREFIX + formula for formula in self.template.formulas)
        return (self.card_id,)

    @property
    def topic(self) -> str:
        return (self.question_ or self.template).topic

    def question(self) -> Question:
        if self.question_ is not None:
            return self.question_
        return generate(self.template, self.variant)


def generate(template: Template, variant: int) -> Question:
    """The template's variant, with the id, topic and card fields filled in consistently."""
    from dataclasses import replace

    try:
        question = template.generate(variant)
    except Exception as error:  # noqa: BLE001 - a template's bug is reported, never a traceback
        raise CheatsheetError(
            f"template {template.id}@{variant} could not draw a question "
            f"({type(error).__name__}: {error})"
        ) from error
    return replace(
        question,
        id=f"{template.id}@{variant}",
        topic=question.topic or template.topic,
        generated=True,
        template=template.id,
        formulas=question.formulas or template.formulas,
        source=question.source or template.make.__module__,
    )


class Catalog:
    def __init__(self, directories: list[Path] | None = None):
        self.directories = directories or bank_directories()
        self._banks: dict[str, list[Question]] = {}
        self._files: dict[str, list[Path]] = {}
        for directory in self.directories:
            for path in bank_files(directory):
                self._files.setdefault(path.stem, []).append(path)

    @property
    def template_errors(self) -> dict[str, str]:
        return load_templates()

    # topics -------------------------------------------------------------------------------------
    def topics(self) -> list[str]:
        load_templates()
        names = set(self._files) | {t.topic for t in TEMPLATES.values()}
        return sorted(names)

    def check_topic(self, topic: str) -> None:
        if topic == "all" or topic in self._files:
            return
        if topic not in self.topics():
            from formulas.core import TOPICS, closest

            if topic in TOPICS:
                raise CheatsheetError(f"topic '{topic}' has no questions yet")
            near = closest(topic, [*self.topics(), "all"])
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise CheatsheetError(f"unknown topic '{topic}'{hint}")

    # questions ----------------------------------------------------------------------------------
    def bank(self, topic: str) -> list[Question]:
        if topic not in self._banks:
            questions: list[Question] = []
            for path in self._files.get(topic, []):
                questions.extend(load_bank(path, registry=False))
            self._banks[topic] = questions
        return self._banks[topic]

    def templates(self, topic: str | None = None) -> list[Template]:
        load_templates(topic)
        return [t for t in TEMPLATES.values() if topic in (None, "all", t.topic)]

    def pool(self, topic: str, kind: str | None = None) -> list[Pick]:
        topics = self.topics() if topic == "all" else [topic]
        picks: list[Pick] = []
        for name in topics:
            if kind in (None, *KINDS):
                picks.extend(Pick(question_=q) for q in self.bank(name) if kind in (None, q.kind))
            picks.extend(
                Pick(template=t)
                for t in self.templates(name)
                if kind in (None, "generated", t.kind)
            )
        return picks

    def _bank_with(self, question_id: str) -> Pick | None:
        """The bank question with this id, reading only the bank files that mention it."""
        needle = f'"{question_id}"'
        for topic, paths in self._files.items():
            if any(needle in path.read_text(encoding="utf-8") for path in paths):
                for question in self.bank(topic):
                    if question.id == question_id:
                        return Pick(question_=question)
        return None

    def find_item(self, card_id: str) -> Pick | None:
        """The bank question or template with this card id (None if gone); for a fact card,
        one of its forms (quizzes.repetition.forms), drawn with a seed of the card id."""
        from quizzes.repetition import is_fact_card, pick_for_card

        if is_fact_card(card_id):
            return pick_for_card(self, card_id, None, random.Random(card_id))
        if card_id in TEMPLATES:
            return Pick(template=TEMPLATES[card_id])
        found = self._bank_with(card_id)
        if found is not None:
            return found
        load_template(card_id)
        if card_id in TEMPLATES:
            return Pick(template=TEMPLATES[card_id])
        return None

    def find(self, question_id: str, seed: int | None = None) -> Question:
        """`bank-id`, `template-id@variant`, or `template-id` with `seed` as its variant."""
        template_id, at, variant_text = question_id.partition("@")
        if at:
            load_template(template_id)
            if template_id not in TEMPLATES:
                raise self._unknown(question_id)
            try:
                variant = int(variant_text)
            except ValueError:
                raise CheatsheetError(
                    f"'{question_id}': the variant after '@' must be an integer"
                ) from None
            return generate(TEMPLATES[template_id], variant)
        item = self.find_item(question_id)
        if item is not None and item.template is not None:
            return generate(item.template, seed if seed is not None else 0)
        if item is None:
            raise self._unknown(question_id)
        return item.question()

    def _unknown(self, question_id: str) -> CheatsheetError:
        from formulas.core import closest

        ids = list(TEMPLATES) + [q.id for t in self.topics() for q in self.bank(t)]
        near = closest(question_id.partition("@")[0], ids)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        return CheatsheetError(f"unknown question id '{question_id}'{hint}")

    # selection ----------------------------------------------------------------------------------
    def select(
        self,
        topic: str,
        n: int,
        seed: int | None,
        kind: str | None = None,
        only: set[str] | None = None,
    ) -> list[Pick]:
        """n picks drawn with the seed (the same seed gives the same quiz); templates get a
        variant each; `only` restricts to these card ids (due cards)."""
        self.check_topic(topic)
        if kind is not None and kind not in (*KINDS, "generated"):
            from formulas.core import closest

            near = closest(kind, [*KINDS, "generated"])
            raise CheatsheetError(
                f"unknown kind '{kind}'" + (f"; did you mean {', '.join(near)}?" if near else "")
            )
        pool = self.pool(topic, kind)
        rng = random.Random(seed)
        if only is not None:
            pool = self._due_pool(pool, only, topic, kind, rng)
        chosen = rng.sample(pool, min(n, len(pool))) if pool else []
        # A short pool repeats its templates with fresh variants until n questions.
        templates = [pick for pick in pool if pick.template is not None and pick.variant is None]
        while len(chosen) < n and templates:
            chosen.append(rng.choice(templates))
        return [
            Pick(template=pick.template, variant=rng.randrange(VARIANT_RANGE))
            if pick.template is not None and pick.variant is None
            else pick
            for pick in chosen
        ]

    def _due_pool(
        self, pool: list[Pick], only: set[str], topic: str, kind: str | None, rng: random.Random
    ) -> list[Pick]:
        """The picks that ask the due cards `only`: bank questions and computation templates
        by their card, and one form (seeded) of each due fact card."""
        from quizzes.repetition import RECALL_KINDS, is_fact_card, pick_for_card

        due = [
            pick
            for pick in pool
            if not is_fact_card(pick.card_id)
            and pick.card_id in only
            and (pick.question_ is not None or pick.template.kind not in RECALL_KINDS)
        ]
        scope = None if topic == "all" else topic
        for card_id in sorted(card for card in only if is_fact_card(card)):
            pick = pick_for_card(self, card_id, scope, rng, kind=kind)
            if pick is None or (scope is not None and pick.topic != scope):
                continue
            due.append(pick)
        return due
