"""Matching financing needs with institutions' products, in the database.

A product fits a published need when it passes every hard filter:

- it is active, and its type is the need's type (a combined need fits combined products);
- the amount needed lies within [amount_min, amount_max];
- the term needed lies within [term_months_min, term_months_max];
- its target industries include the need's industry, or it targets every industry (mask 0);
- its target stages include the case's stage, or it targets every stage (mask 0);
- its regions include the case's region, or it names no region (offered everywhere).

Each fitting pair gets a score out of 100, the sum of five parts (each stored with the
reasons, so a reader sees where the points came from):

- rate, 0 to 40: 40 x (1 - midpoint rate / 10); a product at 10 per cent a year or dearer
  gets 0, so the cheaper the money, the higher the product ranks;
- special line, 0 or 20: the product belongs to a special line (SPECIAL_LINE_FIT) that
  serves the need's industry at the case's stage;
- amount, 0 to 20: how central the amount is in the product's range, 20 at the middle,
  0 at either end (20 when the range is a single amount);
- region, 0 or 10: the product is offered in the case's region by name, not just
  everywhere;
- industry, 0 or 10: the product targets the need's industry by name, not just any.

The score is summed as a floating-point number and kept in hundredths; ties go to the older
product (lower id). Each need keeps its best ``MATCHES_PER_NEED`` products in NeedMatch, with
the parts of its score as reasons ([code, points], see REASON_CODES).

Everything happens in SQL, set-based, with the needs' and products' terms computed once per
statement (amounts as integer cents, industry and stage as bits): matching one need is two
queries (DELETE, then INSERT ... SELECT with ROW_NUMBER() per need); a product's change finds the
needs it touches in one query and rematches them two queries per chunk; rematching every need
ranks all pairs into a temporary table and makes the stored matches follow it, a constant
number of statements. The SQL is the same on PostgreSQL and SQLite (3.25 or later) but for a few
function names.
"""

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.formatting import format_wan
from cases.models import Industry, Stage

from .models import (
    INDUSTRY_BITS,
    STAGE_BITS,
    FinancialProduct,
    FinancingNeed,
    FinancingType,
    NeedMatch,
    NeedState,
    SpecialLine,
    mask_of,
)

# The best products a need keeps: what its page shows, and few enough that matching every need
# from scratch (every stored match inserted, indexed and checked against three foreign keys)
# stays well under a minute for 50,000 needs. A product's page lists every need it fits anyway.
MATCHES_PER_NEED = 10
# Needs rematched per statement when a product changes (well under SQLite's variable limit).
NEED_CHUNK = 2000
# PostgreSQL's sort memory for a set-based rematch, which ranks every fitting pair.
SORT_MEMORY = "256MB"

RATE_POINTS = 40
LINE_POINTS = 20
AMOUNT_POINTS = 20
REGION_POINTS = 10
INDUSTRY_POINTS = 10
# A midpoint rate at or above this many per cent a year earns no rate points.
RATE_CEILING = 10

# The industries and case stages each special line of the seeds serves.
SPECIAL_LINE_FIT = {
    SpecialLine.SPECIALIZED_SME: (
        [
            Industry.NEXT_GEN_IT,
            Industry.BIOTECH,
            Industry.HIGH_END_EQUIPMENT,
            Industry.NEW_MATERIALS,
            Industry.NEW_ENERGY_VEHICLES,
            Industry.ADVANCED_MANUFACTURING,
        ],
        [Stage.DOCKING, Stage.FINANCING, Stage.CONSTRUCTION],
    ),
    SpecialLine.SCI_TECH: (
        [Industry.NEXT_GEN_IT, Industry.BIOTECH, Industry.NEW_MATERIALS, Industry.HIGH_END_EQUIPMENT, Industry.NEW_ENERGY],
        [Stage.PREWORK, Stage.DOCKING, Stage.FINANCING],
    ),
    SpecialLine.DIGITAL: (
        [
            Industry.NEXT_GEN_IT,
            Industry.DIGITAL_CREATIVE,
            Industry.ADVANCED_MANUFACTURING,
            Industry.MODERN_SERVICES,
            Industry.HIGH_END_EQUIPMENT,
        ],
        [Stage.DOCKING, Stage.FINANCING, Stage.CONSTRUCTION],
    ),
    SpecialLine.RELENDING: (
        [
            Industry.ADVANCED_MANUFACTURING,
            Industry.HIGH_END_EQUIPMENT,
            Industry.NEW_ENERGY_VEHICLES,
            Industry.NEW_MATERIALS,
            Industry.GREEN,
            Industry.NEW_ENERGY,
        ],
        [Stage.DOCKING, Stage.FINANCING, Stage.CONSTRUCTION],
    ),
}

# The stored reasons: the parts of the score, each [code, points], in this order. The hard filters
# a match passed (type, amount, term, industry, stage, region) hold for every match and are read
# from the need and the product when the reasons are shown.
REASON_CODES = ["rate", "special_line", "amount", "region", "industry"]


# SQL


def _literal(code):
    """A choice value as an SQL string literal; the values are the models' own identifiers."""
    if not code.replace("_", "").isalnum():
        raise ValueError(f"not an identifier: {code!r}")
    return f"'{code}'"


def _case(column, mapping):
    whens = " ".join(f"WHEN {_literal(value)} THEN {number}" for value, number in mapping.items() if number)
    return f"(CASE {column} {whens} ELSE 0 END)" if whens else "0"


def _dialect():
    if connection.vendor == "postgresql":
        return {
            "greatest": "GREATEST",
            "array": "jsonb_build_array",
            "materialized": "MATERIALIZED",
            "score": "ROUND(CAST(ROUND(({x}) * 100) AS NUMERIC) / 100, 2)",
        }
    return {
        "greatest": "MAX",
        "array": "json_array",
        "materialized": "",
        "score": "ROUND(ROUND(({x}) * 100) / 100.0, 2)",
    }


def _tables():
    through = FinancialProduct.regions.through
    return {
        "need": connection.ops.quote_name(FinancingNeed._meta.db_table),
        "product": connection.ops.quote_name(FinancialProduct._meta.db_table),
        "match": connection.ops.quote_name(NeedMatch._meta.db_table),
        "regions": connection.ops.quote_name(through._meta.db_table),
        "regions_product": through._meta.get_field("financialproduct").column,
        "regions_unit": through._meta.get_field("unit").column,
    }


FLOAT = "DOUBLE PRECISION"


def _need_terms(n):
    """What matching reads of need row ``n``: amounts in cents (exact integers), bits for the masks."""
    return {
        "financing_type": f"{n}.financing_type",
        "term": f"{n}.term_months",
        "region": f"{n}.region_id",
        "cents": f"CAST({n}.amount * 100 AS BIGINT)",
        "ibit": _case(f"{n}.industry", INDUSTRY_BITS),
        "sbit": _case(f"{n}.stage", STAGE_BITS),
    }


def _product_terms(p):
    """What matching reads of product row ``p``, with the parts of the score that are the product's own."""
    t = _tables()
    d = _dialect()
    line_industries = {line: mask_of(industries, INDUSTRY_BITS) for line, (industries, _s) in SPECIAL_LINE_FIT.items()}
    line_stages = {line: mask_of(stages, STAGE_BITS) for line, (_i, stages) in SPECIAL_LINE_FIT.items()}
    return {
        "id": f"{p}.id",
        "financing_type": f"{p}.financing_type",
        "term_min": f"{p}.term_months_min",
        "term_max": f"{p}.term_months_max",
        "industries_mask": f"{p}.industries_mask",
        "stages_mask": f"{p}.stages_mask",
        "min_cents": f"CAST({p}.amount_min * 100 AS BIGINT)",
        "max_cents": f"CAST({p}.amount_max * 100 AS BIGINT)",
        "rate_points": (
            f"CAST({d['greatest']}(0, {RATE_POINTS} - {RATE_POINTS / RATE_CEILING / 2} * ({p}.rate_min + {p}.rate_max))"
            f" AS {FLOAT})"
        ),
        "industry_points": f"(CASE WHEN {p}.industries_mask <> 0 THEN {INDUSTRY_POINTS} ELSE 0 END)",
        "line_ibits": _case(f"{p}.special_line", line_industries),
        "line_sbits": _case(f"{p}.special_line", line_stages),
        "regional": (
            f"(CASE WHEN EXISTS (SELECT 1 FROM {t['regions']} named"
            f" WHERE named.{t['regions_product']} = {p}.id) THEN 1 ELSE 0 END)"
        ),
    }


def _pair(nt, pt, r):
    """(join condition, region condition, points) of need terms ``nt`` and product terms ``pt``,
    ``r`` being the product's row for the need's region (LEFT JOINed, so NULL when not named)."""
    t = _tables()
    join = (
        f"{pt['financing_type']} = {nt['financing_type']}"
        f" AND {nt['cents']} >= {pt['min_cents']} AND {nt['cents']} <= {pt['max_cents']}"
        f" AND {nt['term']} >= {pt['term_min']} AND {nt['term']} <= {pt['term_max']}"
        f" AND ({pt['industries_mask']} = 0 OR ({pt['industries_mask']} & {nt['ibit']}) <> 0)"
        f" AND ({pt['stages_mask']} = 0 OR ({pt['stages_mask']} & {nt['sbit']}) <> 0)"
    )
    region_join = (
        f"LEFT JOIN {t['regions']} {r} ON {r}.{t['regions_product']} = {pt['id']}"
        f" AND {r}.{t['regions_unit']} = {nt['region']}"
    )
    region = f"({r}.{t['regions_unit']} IS NOT NULL OR {pt['regional']} = 0)"
    points = {
        "rate_points": pt["rate_points"],
        "industry_points": pt["industry_points"],
        "amount_points": (
            f"(CASE WHEN {pt['max_cents']} = {pt['min_cents']} THEN {AMOUNT_POINTS}"
            f" ELSE {AMOUNT_POINTS} - CAST({AMOUNT_POINTS} AS {FLOAT})"
            f" * ABS(2 * {nt['cents']} - {pt['min_cents']} - {pt['max_cents']}) / ({pt['max_cents']} - {pt['min_cents']}) END)"
        ),
        "line_points": (
            f"(CASE WHEN ({pt['line_ibits']} & {nt['ibit']}) <> 0 AND ({pt['line_sbits']} & {nt['sbit']}) <> 0"
            f" THEN {LINE_POINTS} ELSE 0 END)"
        ),
        "region_points": f"(CASE WHEN {r}.{t['regions_unit']} IS NOT NULL THEN {REGION_POINTS} ELSE 0 END)",
    }
    return join, region_join, region, points


def _score(total):
    """The stored score: the sum of the parts in hundredths, as a number with two places."""
    return _dialect()["score"].format(x=total)


def _candidates_sql(need_condition, product_condition="1 = 1"):
    """The WITH clause of the published needs ``need_condition`` admits (alias nq, with their terms
    computed once) and the active products ``product_condition`` admits (pq), and ``pairs``: each
    need with each product that fits it, with the parts of the score."""
    t = _tables()
    d = _dialect()
    nt = _need_terms("n")
    pt = _product_terms("p")
    need_columns = ", ".join(f"{sql} AS {name}" for name, sql in nt.items() if name in ("cents", "ibit", "sbit"))
    product_columns = ", ".join(f"{sql} AS {name}" for name, sql in pt.items() if "(" in sql)
    nq = {name: f"nq.{name}" for name in ("cents", "ibit", "sbit")}
    nq.update({"financing_type": "nq.financing_type", "term": "nq.term_months", "region": "nq.region_id"})
    pq = {name: f"pq.{name}" for name in pt}
    pq.update(
        {
            "id": "pq.id",
            "financing_type": "pq.financing_type",
            "term_min": "pq.term_months_min",
            "term_max": "pq.term_months_max",
            "industries_mask": "pq.industries_mask",
            "stages_mask": "pq.stages_mask",
        }
    )
    join, region_join, region, points = _pair(nq, pq, "r")
    parts = ", ".join(f"{sql} AS {name}" for name, sql in points.items())
    return (
        f"WITH nq AS {d['materialized']} ("
        f" SELECT n.*, {need_columns} FROM {t['need']} n WHERE n.state = %s AND {need_condition}"
        f"), pq AS {d['materialized']} ("
        f" SELECT p.*, {product_columns} FROM {t['product']} p WHERE p.is_active AND {product_condition}"
        f"), pairs AS ("
        f" SELECT nq.id AS need_id, pq.id AS product_id, {parts}"
        f" FROM nq JOIN pq ON {join} {region_join} WHERE {region}"
        f")"
    )


POINT_NAMES = ["rate_points", "industry_points", "amount_points", "line_points", "region_points"]


def _ranked_matches_sql(need_condition):
    """SELECT need_id, product_id, institution_id, score, reasons of each published need that
    ``need_condition`` (on alias n) admits, its best MATCHES_PER_NEED products only.
    Parameters: the published state, those of ``need_condition``, MATCHES_PER_NEED."""
    d = _dialect()
    total = " + ".join(f"ranked.{name}" for name in POINT_NAMES)
    arr = d["array"]
    stored = {
        "rate": _score("ranked.rate_points"),
        "special_line": "ranked.line_points",
        "amount": _score("ranked.amount_points"),
        "region": "ranked.region_points",
        "industry": "ranked.industry_points",
    }
    reasons = f"{arr}(" + ", ".join(f"{arr}('{code}', {stored[code]})" for code in REASON_CODES) + ")"
    order = "ROUND((" + " + ".join(POINT_NAMES) + ") * 100)"
    return (
        f"{_candidates_sql(need_condition)}"
        f", ranked AS ("
        f" SELECT pairs.*, ROW_NUMBER() OVER (PARTITION BY need_id ORDER BY {order} DESC, product_id) AS position"
        f" FROM pairs"
        f") SELECT ranked.need_id, ranked.product_id, pq.institution_id, {_score(total)} AS score, {reasons} AS reasons"
        f" FROM ranked JOIN pq ON pq.id = ranked.product_id"
        f" WHERE ranked.position <= %s"
    )


def _insert_sql(need_condition):
    """INSERT the best matches of the needs ``need_condition`` admits; its parameters come from
    ``_insert_params``."""
    t = _tables()
    return (
        f"INSERT INTO {t['match']} (need_id, product_id, institution_id, score, reasons, computed_at)"
        f" SELECT best.need_id, best.product_id, best.institution_id, best.score, best.reasons, %s"
        f" FROM ({_ranked_matches_sql(need_condition)}) best"
    )


def _insert_params(need_params):
    return [_now(), NeedState.PUBLISHED, *need_params, MATCHES_PER_NEED]


def _now():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _id_list(ids):
    return ", ".join("%s" for _id in ids)


def _lock_needs(cursor, need_ids):
    """On PostgreSQL, hold the needs being rematched, so that two rematches of one need (a
    publication and a product's change at once) take turns instead of clashing on its matches.
    (SQLite lets one writer in at a time anyway.)"""
    if connection.vendor == "postgresql" and need_ids:
        t = _tables()
        cursor.execute(f"SELECT id FROM {t['need']} WHERE id IN ({_id_list(need_ids)}) ORDER BY id FOR UPDATE", need_ids)


def _roomy(cursor):
    """On PostgreSQL, room for a set-based rematch to rank its pairs in memory, for this transaction."""
    if connection.vendor == "postgresql":
        cursor.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")


# Matching


@transaction.atomic(savepoint=False)
def match_need(need):
    """Rank the products that fit ``need`` (a FinancingNeed or its id) and keep its best ones.

    Two queries (three on PostgreSQL, which first holds the need): the old matches go, the new
    ones are selected, scored, ranked and written by one INSERT ... SELECT. A need that is not
    published keeps no matches. Returns how many it has.
    """
    need_id = getattr(need, "pk", need)
    t = _tables()
    with connection.cursor() as cursor:
        _lock_needs(cursor, [need_id])
        cursor.execute(f"DELETE FROM {t['match']} WHERE need_id = %s", [need_id])
        cursor.execute(_insert_sql("n.id = %s"), _insert_params([need_id]))
        return cursor.rowcount


@transaction.atomic(savepoint=False)
def match_needs(need_ids):
    """Rematch the needs with these ids, set-based: two queries a chunk of NEED_CHUNK needs."""
    need_ids = sorted(set(need_ids))
    t = _tables()
    written = 0
    with connection.cursor() as cursor:
        if len(need_ids) > NEED_CHUNK:
            _roomy(cursor)
        for start in range(0, len(need_ids), NEED_CHUNK):
            chunk = need_ids[start : start + NEED_CHUNK]
            _lock_needs(cursor, chunk)
            cursor.execute(f"DELETE FROM {t['match']} WHERE need_id IN ({_id_list(chunk)})", chunk)
            cursor.execute(_insert_sql(f"n.id IN ({_id_list(chunk)})"), _insert_params(chunk))
            written += cursor.rowcount
    return written


BEST = "kp_best_matches"


def _follow_best_sql(match):
    """The statements that make the stored matches those of the temporary table BEST: drop the
    stored ones no longer among the best, update the changed ones, strike the ones already
    stored off BEST, and insert the rest (no statement reads the table it writes)."""
    pair = f"b.need_id = {match}.need_id AND b.product_id = {match}.product_id"
    changed = f"(b.score <> {match}.score OR b.reasons <> {match}.reasons)"
    columns = "need_id, product_id, institution_id, score, reasons"
    delete = f"DELETE FROM {match} WHERE NOT EXISTS (SELECT 1 FROM {BEST} b WHERE {pair})"
    if connection.vendor == "postgresql":
        update = (
            f"UPDATE {match} SET score = b.score, reasons = b.reasons, computed_at = %s"
            f" FROM {BEST} b WHERE {pair} AND {changed}"
        )
    else:
        update = (
            f"UPDATE {match} SET score = (SELECT b.score FROM {BEST} b WHERE {pair}),"
            f" reasons = (SELECT b.reasons FROM {BEST} b WHERE {pair}), computed_at = %s"
            f" WHERE EXISTS (SELECT 1 FROM {BEST} b WHERE {pair} AND {changed})"
        )
    known = f"DELETE FROM {BEST} WHERE EXISTS (SELECT 1 FROM {match} m WHERE m.need_id = {BEST}.need_id AND m.product_id = {BEST}.product_id)"
    insert = f"INSERT INTO {match} ({columns}, computed_at) SELECT {columns}, %s FROM {BEST}"
    return delete, update, known, insert


@transaction.atomic(savepoint=False)
def rematch_all():
    """Recompute the matches of every published need, set-based, whatever their number.

    The best matches are ranked into a temporary table by one statement; then the stored matches
    follow it: those no longer among the best go, changed ones are updated, new ones come. So a
    rematch after a small change writes little, and a first one writes every match once.
    A constant number of statements. Returns how many matches there are.
    """
    t = _tables()
    delete, update, known, insert = _follow_best_sql(t["match"])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One set-based rematch at a time, and no single need's rematch in between.
            cursor.execute(f"LOCK TABLE {t['match']} IN SHARE ROW EXCLUSIVE MODE")
        _roomy(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {BEST}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {BEST} AS {_ranked_matches_sql('1 = 1')}", [NeedState.PUBLISHED, MATCHES_PER_NEED]
        )
        if connection.vendor == "postgresql":
            # Fresh sizes for the planner: a table it believes empty would be scanned once per row.
            cursor.execute(f"ANALYZE {BEST}")
            cursor.execute(f"ANALYZE {t['match']}")
        else:
            cursor.execute(f"CREATE INDEX {BEST}_pair ON {BEST} (need_id, product_id)")
        cursor.execute(f"SELECT COUNT(*) FROM {BEST}")
        total = cursor.fetchone()[0]
        cursor.execute(delete)
        cursor.execute(update, [_now()])
        cursor.execute(known)
        cursor.execute(insert, [_now()])
        cursor.execute(f"DROP TABLE {BEST}")
    return total


def _needs_touched_by(product_id):
    """Ids of the needs whose best products may change with this product: those it was among
    the best of, and those it fits now."""
    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_candidates_sql('1 = 1', 'p.id = %s')}"
            f" SELECT need_id FROM pairs UNION SELECT need_id FROM {t['match']} WHERE product_id = %s",
            [NeedState.PUBLISHED, product_id, product_id],
        )
        return [row[0] for row in cursor.fetchall()]


@transaction.atomic(savepoint=False)
def rematch_product(product):
    """After a product was created, changed or deactivated: rematch the needs it was matched with
    or fits now (one query to find them, two per chunk of needs). Returns how many were written."""
    return match_needs(_needs_touched_by(getattr(product, "pk", product)))


def fit_score_sql(product_id):
    """(sql, params) of the score of product ``product_id`` for the need row of the outer query
    (the needs table under its own name), NULL when the product does not fit it: the same filters
    and score as matching, read from the product's side."""
    t = _tables()
    join, region_join, region, points = _pair(_need_terms(t["need"]), _product_terms("p"), "r")
    total = " + ".join(points[name] for name in POINT_NAMES)
    return (
        f"(SELECT {_score(total)} FROM {t['product']} p {region_join}"
        f" WHERE p.id = %s AND p.is_active AND {join} AND {region})",
        [product_id],
    )


# Reasons as people read them


def _number(value):
    if value is None:
        return "—"
    return f"{float(value):g}" if float(value) != int(float(value)) else str(int(float(value)))


def _points(value):
    number = float(value or 0)
    return f"{number:.0f}" if number.is_integer() else f"{number:.2f}"


def reason_texts(reasons, *, need, product):
    """Why ``product`` fits ``need``, as sentences in the reader's language: the hard filters it
    passed, read from the two, then the parts of its score from the stored ``reasons``."""
    points = {code: float(value or 0) for code, value in (reasons or [])}
    industries = dict(Industry.choices)
    stages = dict(Stage.choices)
    lines = dict(SpecialLine.choices)
    texts = [
        _("It is a %(type)s product, the type of financing the need asks for.")
        % {"type": dict(FinancingType.choices).get(product.financing_type, product.financing_type)},
        _("The amount needed, %(amount)s, lies within its range of %(min)s to %(max)s: %(points)s of 20 points for how central it is.")
        % {
            "amount": format_wan(need.amount),
            "min": format_wan(product.amount_min),
            "max": format_wan(product.amount_max),
            "points": _points(points.get("amount")),
        },
        _("The term of %(term)s months lies within its %(min)s to %(max)s months.")
        % {"term": need.term_months, "min": product.term_months_min, "max": product.term_months_max},
    ]
    if points.get("industry"):
        texts.append(
            _("It targets the need's industry, %(industry)s: %(points)s points.")
            % {"industry": industries.get(need.industry, need.industry or "—"), "points": _points(points["industry"])}
        )
    else:
        texts.append(_("It is open to every industry."))
    if product.stages_mask:
        texts.append(_("It targets the case's stage, %(stage)s.") % {"stage": stages.get(need.stage, need.stage or "—")})
    else:
        texts.append(_("It is open to cases at every stage."))
    if points.get("region"):
        texts.append(
            _("It is offered in the case's region, %(region)s, by name: %(points)s points.")
            % {"region": need.region.name if need.region_id else "—", "points": _points(points["region"])}
        )
    else:
        texts.append(_("It is offered in every region."))
    texts.append(
        _("Its rate of %(min)s to %(max)s per cent a year earns %(points)s of 40 points.")
        % {"min": _number(product.rate_min), "max": _number(product.rate_max), "points": _points(points.get("rate"))}
    )
    if points.get("special_line"):
        texts.append(
            _("It belongs to a special line that serves this industry at this stage, %(line)s: %(points)s points.")
            % {"line": lines.get(product.special_line, product.special_line), "points": _points(points["special_line"])}
        )
    return texts


__all__ = [
    "MATCHES_PER_NEED",
    "REASON_CODES",
    "SPECIAL_LINE_FIT",
    "fit_score_sql",
    "match_need",
    "match_needs",
    "reason_texts",
    "rematch_all",
    "rematch_product",
]
