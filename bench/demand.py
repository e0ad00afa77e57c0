"""Demand figures at scale: rollups, Elasticsearch and published figures beside a naive GROUP BY.

One command, the number of purchases as the scale:

    createdb -h 127.0.0.1 -p 55432 -U postgres scc_bench_demand
    DATABASE_URL=postgres://postgres@127.0.0.1:55432/scc_bench_demand .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:55432/scc_bench_demand \\
    ELASTICSEARCH_URL=http://127.0.0.1:59200 SEARCH_INDEX_PREFIX=bench_demand_ \\
        flock /tmp/scc-bench.lock .venv/bin/python -m bench.demand --scale 5000000 \\
        [--only rollups naive published elasticsearch incremental] [--repeat 20]

(``bin/bench`` / ``make bench SCALE=N`` runs it too: a scale under 1,000 is
read as that many hundred thousand purchases.) The first run loads the
purchases (COPY, with the table's secondary indexes and foreign-key triggers
off while it copies, then rebuilt) and rebuilds the rollups; later runs
reuse them, so build once and time under the lock as often as you like.
With ``ELASTICSEARCH_URL`` set the purchases index is built once too
(``--reindex`` to force it).

Synthetic data: budget holders (one per 150 purchases) each live in one of
28 postcode districts and have a care package of one to four regular
(category, provider) services taking 85% of their purchases; the rest are
one-off purchases. Providers' popularity falls off as 1/rank, so a few
providers are large and many are small (small cells for disclosure
control, as in a real borough). Two years of purchases, 2024 and 2025.

Timed: each query the dashboard and the API run for a 12-month period that
straddles a year end (December 2024 to November 2025) and for the period
before it (which, for 12 months, is also the same period a year earlier):
from the rollups, from Elasticsearch, as published figures (disclosure
control included), as the naive GROUP BY over purchases and (``members``)
the first build's COUNT(DISTINCT) over the monthly member rows; p50 and p95
over ``--repeat`` runs after a warm-up run (the naive GROUP BY: 3 runs, no
warm-up, the 12 months only). Before them, the incremental
update: one day's purchases inserted and applied, taken away, put back
(each purchase from a random provider in a random category: nearly every
one makes someone new to a cell, the worst case for the member, reach and
pattern upkeep), and a day made like the data's own days (the day before's
purchases again). With ``elasticsearch`` as well, the Elasticsearch upkeep
of a random day: its purchases indexed and their cells summed afresh and
written (``purchases_index_ids``, what the task after their commit runs),
then deleted and taken out the same way. Elasticsearch's shard request cache
is switched off on the bench indexes so each run aggregates.

``--skip`` leaves out queries by label (also ``"concentration (spend)"``,
``"concentration, Python"`` and ``"concentration, in SQL"``). Besides the
dashboard queries, ``rollups`` times market concentration three ways: the
spend rows alone (``concentration (spend)``), the analysts' whole table
from those rows in Python (``concentration, Python``, the page's old way)
and summed per market in PostgreSQL (``concentration, in SQL``,
``selectors.rollup_concentration``, what the page now runs); ``elasticsearch``
times the page's way there (``concentration, per market``,
``elasticsearch.es_concentration``).

Measured 7 December 2026, 21:36-21:53 UTC, at 3d1109d (runs 3-4) and 6377ab8
(runs 5-6, HEAD), on a fresh 5,000,000-purchase build (2 cores, shared; the
build: COPY 30 s, rollups ~8 minutes; the purchases index and its cells index
by ``reindex_demand_purchases``' code in 408 s, of which the 891,691 cells
~35 s), under the lock, n=10, every other server idle, load 1.2-2.3:

    DATABASE_URL=postgres://postgres@127.0.0.1:55532/scc_bench_demand \
    ELASTICSEARCH_URL=http://127.0.0.1:59400 SEARCH_INDEX_PREFIX=bench_demand_ \
    DJANGO_SETTINGS_MODULE=config.settings.bench flock /tmp/scc-bench.lock \
        .venv/bin/python -m bench.demand --scale 5000000 \
        --only rollups published elasticsearch incremental --repeat 10

    p95 ms, 12 months (previous 12)        run 3      run 4      run 5      run 6
    slowest page query, rollups            268 (202)  247 (203)  238 (192)  245 (235)
      (category x locality x provider)
    slowest page query, published          297 (295)  236 (222)  229 (218)  256 (249)
      (by provider)
    Elasticsearch category x loc x prov    248 (221)  229 (202)  229 (204)  260 (237)
    Elasticsearch concentration, per mkt   295 (266)  219 (251)  216 (241)  236 (221)
    every other Elasticsearch query        under 100 in every run (90-99 the slowest)
    a random day (6,839), rollups          3.38 s     3.56 s     4.08 s     3.46 s
    the same day, Elasticsearch upkeep     0.92 s     0.78 s     0.64 s     0.67 s
      (indexed, cells summed and written; deleted and taken out: 0.43-0.51 s)

Two more runs at 08b05da (the same demand code) on a second fresh build
(22:12-22:25: COPY 44 s, rollups ~7 minutes, both indexes 300 s), 22:33-22:36,
load 0.0 -> 1.8: the slowest page queries at p95 were rollups category x
locality x provider 268 and 272 (previous 12 months), published by provider
252 and 245, Elasticsearch category x locality x provider 222 and 242,
Elasticsearch concentration per market 151 and 142; a random day 3.93 s and
3.25 s on the rollups, 1.24 s and 0.83 s for the Elasticsearch upkeep.

So at HEAD every query a page runs is under 300 ms at p95 on both backends,
and a day's purchases are applied in under 5 s on both. Not run by any page
and still over 300: the analysts' grid's spend rows alone (``concentration
(spend)``: rollups 296-313, Elasticsearch 299-355) and the old Python way
(``concentration, Python``: 365-452); the page takes concentration per market
(rollups ``concentration, in SQL`` 166-219; Elasticsearch ``concentration, per
market`` 216-295). Elasticsearch before (p50 / p95): category x locality x
provider 1,524 / 1,582 and concentration 860 / 1,020 on 23 November (the
purchases index alone); 745 / 801 and 596 / 701 today at b61dcd5 (the cells
index alone, before the changes below).

The naive GROUP BY over the purchases beside them (``--only naive``, 21:53,
same build, 3 runs, p50 / p95 ms, 12 months): total 721 / 730, by category
1,267 / 1,317, by locality 898 / 899, by care group 1,187 / 1,224, by provider
5,597 / 5,653, by sector 1,253 / 1,255, by channel 1,021 / 1,130, by month
1,205 / 1,207, category x locality 1,932 / 1,981, category x provider 1,435 /
1,463, category x locality x provider 2,118 / 2,190, month x category x
locality 1,870 / 1,943, home care by locality 309 / 316.

What changed on Elasticsearch:

- A cells index beside the purchases (one document per month, category,
  postcode district and provider with its spend and purchases; 891,691 for
  two years). Every figure grouped, filtered and left out by those
  dimensions aggregates it instead of the purchases (by category 186 -> 63,
  by provider 174 -> 60, category x provider 253 -> 82, month x category x
  locality 244 -> 41 ms at p50). It is kept by summing each changed cell
  afresh from the purchases index, under a PostgreSQL advisory lock.
- Category x locality x provider with its people: the rollups count those
  people in one statement that sums spend and purchases in the same pass
  (``selectors.person_month_figures``), so the rows come whole from it.
  Aggregating the ~78,000 buckets in Elasticsearch as well cost 420 ms p50
  against 250: Elasticsearch itself takes ~160 ms to build and write 65,536
  buckets (77 ms for one month's 37,433), and Python another ~100 ms to read
  them.
- Market concentration per market (``es_concentration``): three parts by
  category side by side, each part's buckets gathered into its markets in
  the worker that fetched them, spend alone, only the fields read
  (filter_path); 596 -> ~220 ms p50.
- Python's garbage collector held off while buckets are read
  (``collector.gc_paused``): the 5.5 MB answer read in 185 ms with it on and
  40 ms off. orjson reads the answers (the collector was most of the cost,
  not the parser).

Tried and left out: market concentration computed inside Elasticsearch
(per-market terms, pipeline sums: 166-185 ms for half the categories, slower
than the flat buckets; the test and benchmark distribution has no painless,
so no bucket_script or bucket_selector); ordering buckets by count (slower);
more than three parts. Not tried: a year document per cell (the buckets, not
the documents, are the cost: 37,433 buckets from one month's documents took
77 ms, 65,536 from twelve months' 160).

Measured 7 December 2026, 18:27-19:25 UTC, on a fresh 5,000,000-purchase
build (2 cores, shared, other work running; the build: COPY 48 s, rollups
513 s at load ~2; then migrations 0010, 11 s, and 0011, 10 s), before (the
tree at 3dd42e8) and after (9bcb3a5, this session's last commit), under
the lock, n=10, p50 / p95 ms, 12 months and the previous 12; load average
at the start and end of each run in brackets. The first before ran on the
fresh build, the second on the same database after 0010 and 0011 (its
incremental figures then include the new upkeep of masks and the index):

    DATABASE_URL=postgres://postgres@127.0.0.1:55532/scc_bench_demand \
    DJANGO_SETTINGS_MODULE=config.settings.bench flock /tmp/scc-bench.lock \
        .venv/bin/python -m bench.demand --scale 5000000 \
        --only incremental rollups published --repeat 10

    query                          before       before       after        after
                                   18:27        19:17        19:14        19:23
                                   (2.0->2.3)   (1.7->3.1)   (3.9->2.4)   (3.3->2.8)
    rollups category x loc x prov
      12 months                     656 / 956    626 / 670    290 / 315    310 / 378
      previous                      638 / 773    583 / 620    259 / 281    285 / 315
    published by provider
      12 months                     509 / 559    487 / 519    309 / 317    278 / 311
      previous                      477 / 511    464 / 483    248 / 260    265 / 276
    published category x provider
      12 months                     234 / 361    205 / 286    161 / 165    176 / 184
      previous                      185 / 296    231 / 291    163 / 168    180 / 204
    every other dashboard query     p95 under 140 in both after runs; market
                                    concentration in SQL (what the page runs)
                                    185-206 after, 234-276 before; the two
                                    spend-only and Python variants unchanged
    a random day (6,839), total     3.51 s       3.94 s       3.50 s       4.07 s
      applied / taken away          3.07/5.31    3.43/5.16    3.07/5.17    3.52/5.10
    a day like the data's (6,794)   1.90 s       2.11 s       1.67 s       1.76 s

An after run at 7247e26 (18:59, load 2.0 -> 1.6) had category x locality
x provider 263 / 276 and 256 / 273, published by provider 249 / 270 and
234 / 242, category x provider 172 / 254 and 160 / 248, every dashboard
query under 300 ms at p95 and the random day in 3.41 s. The commits after
it take Python work out of published figures (the flat lists, the row
key), make the small-batch year recount plain SQL SQLite also runs, and
mend a slowdown 072cdf8 brought to published figures without a grid
dimension (the total, by locality, care group, channel, month: 5-10 ms ->
60-80 ms in that run; 9bcb3a5). So: at load 2 or less every dashboard
query is under 300 ms at p95 and the random day under 5 s; at load 3 to 4
category x locality x provider (12 months) and published by provider sit
at the line (p95 311-378 in the two final runs).

Re-timed by the lead on the same build at a158428's demand code (= 9bcb3a5),
the helper's work stopped, same command, 19:42 (load 4.2 -> 2.5, just after
a search benchmark) and 19:44 (1.5 -> 1.5): category x locality x provider
316 / 365 and 297 / 321 (12 months), 285 / 302 and 263 / 276 (previous);
published by provider 243 / 254 and 251 / 262; published category x
provider 153 / 158 and 156 / 177; market concentration in SQL 167 / 171 and
204 / 211; every other dashboard query under 105 ms at p95; the random day
4.91 s and 3.59 s (a day like the data's 2.66 s and 1.79 s). So on
PostgreSQL only category x locality x provider over twelve months is still
over 300 ms at p95, by 21 ms on the quiet run.

What changed. Category x locality x provider counts people without a row
per person: the year rows keep the months' holder counts summed
(``holder_months``, 0010), the pattern table keeps this grouping's month
masks of two or more months (102,741 a window), and people in a period
inside one reach window are the person-months (from the year rows less or
plus months, as spend) less, for each mask, its months in the period beyond
the first; one statement, one aggregate over ~153,000 year and month rows
and ~85,000 masks, instead of ~800,000 reach rows and a second result set
joined in Python; it sorts its ~78,000 rows in the database on one key
(``_tuple_order``: a third of the sort). Published people by provider take
out only those whose every month at a provider is hidden: the 2,130 hidden
(category, provider) pairs' 67,419 reach rows, read pair by pair by the
primary key, give 27,776 people with nothing visible there, each looked up
by a new partial index on the provider grid's reach rows (provider,
person; 0011) for months in other pairs; everyone from the provider
grouping's patterns. Published figures pass their hidden cells to the
people query as the grid's keys (``GridKeys``), and keep each row's sums in
flat lists: the ~7,000 two-element lists of category x provider used to
set off Python's full garbage collection (3 calls in 20, 66-77 ms each,
seen with ``gc.callbacks``; none in 20 calls since), which was its p95.
Every figure was checked identical before and after (all ten published
queries, their hidden cells, every rollup grid with and without people and
the concentration table, over the 12 months, the previous 12 and 24
months, as JSON), the year rows and masks against their sources after the
incremental runs, and the upkeep on SQLite.

Tried and left out: the people as a second aggregate joined to the spend
(~50 ms slower than one aggregate over both); arrays per category and
locality instead of ~78,000 rows (no gain); a merge of the index-ordered
sources instead of hashing (the planner will not plan it); the hidden
pairs joined to the grid's reach rows without the LATERAL fence (hash
joins over all ~448,000 rows: 0.8 s); psycopg's binary results (Django's
client-side cursors do not offer them).

Left (profiled after, load 1 to 3): category x locality x provider ~200 ms
in the database (scans ~80, the aggregate ~85, the sort ~40) and ~75 ms
fetching and building the ~78,000 rows; published by provider ~55 ms for
everyone (provider patterns), ~135 ms for those wholly hidden (half the
hidden pairs' rows, half the look-ups) and ~75 ms of Python (the grid's
43,107 cells, the hidden cells, the sums). The random day's rollups: ~3.0 s
in the member upsert statement, ~1.8 s of it the reach trigger's upsert of
119,370 rows (auto_explain; shared_buffers is 128 MB here). The pattern
table's extra masks are read past by category x provider's parallel scan
of that table (~62 ms in all).

Measured 7 December 2026, 16:52-17:14 UTC, on a fresh 5,000,000-purchase
build (2 cores, shared; the build: COPY 78 s, rollups 975 s at load 4 to 9;
migration 0009 then filled the year rows in 4 s), before (the tree at
a86d9fb) and after this session's changes, alternating under the lock,
n=10, p50 / p95 ms for the 12 months (the previous 12 alike), load average
at the start and end of each run in brackets; the first pair's after is
e70c349, the second's 523eb20 (an earlier pair, before at load 8.0 -> 5.7,
gave the same picture):

    DATABASE_URL=postgres://postgres@127.0.0.1:55532/scc_bench_demand \
    DJANGO_SETTINGS_MODULE=config.settings.bench flock /tmp/scc-bench.lock \
        .venv/bin/python -m bench.demand --scale 5000000 \
        --only incremental rollups published --repeat 10

    query                          before      after       before      after
                                   (3.2->1.8)  (3.4->1.7)  (3.6->1.8)  (3.9->2.0)
    rollups category x loc x prov   759 / 774   658 / 725   854 / 887   662 / 706
    concentration (spend)           500 / 519   342 / 368   552 / 610   324 / 348
    concentration, in SQL           318 / 342   187 / 200   293 / 467   186 / 194
    published by provider           488 / 512   515 / 560   580 / 643   522 / 532
    published category x provider   208 / 303   209 / 312   242 / 358   174 / 270
    every other query               p95 under 100 ms in every run
    a random day (6,839), total     3.63 s      3.48 s      3.66 s      4.30 s
      applied / taken away          3.20/5.39   3.06/5.44   3.20/5.86   3.79/6.45
    a day like the data's (6,794)   1.68 s      1.87 s      1.82 s      2.36 s

What changed: category x locality x provider keeps its spend and purchases
per calendar year as well (``DemandRollupYear``, 0009; the same upkeep
writes it: 0.09 to 0.14 s of a random day's apply, timed per statement,
within the runs' noise above), and a period covering most of a year reads
that year's rows less the months outside it: twelve months from December
to November are ~78,000 year cells plus two months' ~37,000 instead of
twelve months' ~446,000. Market concentration in SQL now meets 300 ms at
p95, and the grid's spend alone (``concentration (spend)``) takes a third
less. The analysts' grid also builds its ~78,000 rows in one leaner pass.
Published figures keep the grid's month dates rather than rewriting
~43,000 tuples, and the hidden cells are keyed more cheaply (published
category x provider under 300 ms at p95 in the second pair only: at the
line). Every figure was checked identical before and after (all ten
published queries and their hidden cells, the grids and both concentration
tables, over the 12 months, the previous 12 and 24 months, as JSON).

Tried and left out: people without category (published by provider) from
the narrower grouping less those wholly in hidden cells (84d6b72, reverted
in 9a38797): the provider grid hides 17,006 of its 43,107 cells in twelve
months (secondary suppression; 2,130 category x provider pairs), ~83,000
member rows, so it took 2.8 s against the fold's 0.8 s. Sorting the
upserts' keys byte by byte (collation "C") made no measurable difference to
the random day. Counting category x locality x provider's people by month
pattern would read 509,613 patterns instead of 800,503 reach rows.

Left (profiled after, load 2 to 4): category x locality x provider (~125 ms
spend, ~240 ms people over 800,503 reach rows, ~40 ms fetching the two
result sets, ~160 ms sorting and building ~78,000 rows and ~60 ms joining
their people in Python); published by provider (the fold of 448,212 reach
rows into 373,714 provider-and-person groups, ~750 ms in the database in an
EXPLAIN ANALYZE at load 5); published category x provider sits at the line
at p95 (~100 ms of SQL, ~100 ms of Python over the grid's 43,107 cells).
The random day took 3.3 to 5.0 s on this build at load under 5, before and
after alike (7.3 and 7.4 s in two runs at load 4.6 to 8; 6.3 s in
November, on a database written to for weeks): the reach trigger's upsert
of ~119,000 rows (~81,000 of them new) is ~3 s of it.

Measured 23 November 2026, evening, the slow queries only, before (the
tree at 22d1995) and after this session's changes (5da379a), back to back
on the same 5,000,000-purchase database, n=10 each, p50 / p95 ms for the
12 months and the previous 12:

    DATABASE_URL=postgres://postgres@127.0.0.1:55532/scc_bench_demand \
    DJANGO_SETTINGS_MODULE=config.settings.bench flock /tmp/scc-bench.lock \
        .venv/bin/python -m bench.demand --scale 5000000 --only rollups published \
        --repeat 10 --skip total "by category" "by locality" "by care_group" \
        "by sector" "by channel" "by month" "month x category x loc" "drill: home care by loc"

    query                       before (5.8 -> 2.9)            after (5.1 -> 3.0)
                                12 months      previous        12 months      previous
    rollups by provider             84 / 89       84 / 98        108 / 135     101 / 116
    rollups category x locality    115 / 130     118 / 145        144 / 152     140 / 184
    rollups category x provider    141 / 150     143 / 154        168 / 195     152 / 221
    rollups category x loc x prov  1,260 / 1,578  1,231 / 1,252  1,787 / 2,522  1,304 / 1,355
    concentration (spend)          771 / 871     746 / 846        707 / 765     681 / 732
    concentration, Python             -             -             800 / 838     786 / 913
    concentration, in SQL             -             -             529 / 639     488 / 654
    published by provider          799 / 860     766 / 833        770 / 878     704 / 806
    published category x provider  340 / 434     339 / 437        294 / 346     298 / 367

(load average at the start and end of each locked run in brackets; an
earlier pair at load 7.7 to 8.5 gave the same picture: concentration
Python 2,015 / 2,355 against in SQL 1,056 / 1,208, published category x
provider 818 / 1,041 before and 682 / 1,200 after.) What changed: the
analysts' concentration table is summed per market in PostgreSQL
(``rollup_concentration``: one row per market reaches Python, not ~78,000
provider rows), about a third less time than the Python way in the same
run; published figures spend less Python per grid cell (Python CPU by
``time.process_time``, median of 5, 22d1995 -> 5da379a: published by
provider 222 -> 167 ms, published category x provider 248 -> 177 ms), about 15% off published
category x provider. The rollup grids are unchanged within the noise
(their cost is the database: spend over ~446,000 month cells and people
over ~800,000 reach rows for category x locality x provider; the
published provider grid folds ~448,000 reach rows per provider and person
with ~2,100 hidden cells' months taken out). Still over 300 ms p95:
category x locality x provider, market concentration, published by
provider and published category x provider. Every figure was checked
identical before and after (published rows for all ten published queries
over 12 and 24 months, the grids above, both concentration tables).

Before, measured earlier on 23 November 2026, 5,000,000 purchases (33,333 people, 300
providers), shared 2-core machine, one in-process client; p50 / p95 ms for
the 12 months (the previous period within ~20% of it), load average at the
start of each locked run in brackets:

    query                       rollups (4.2)  published (4.1)  Elasticsearch (1.0)      naive (1.8)
    total                             11 / 15          19 / 21              51 / 65    1,276 / 1,499
    by category                     136 / 179         95 / 201            176 / 197    2,133 / 2,158
    by locality                       15 / 20          26 / 47             96 / 115    2,100 / 2,102
    by care group                     14 / 16          23 / 29              71 / 75    2,084 / 2,237
    by provider                     112 / 122    1,070 / 1,319            130 / 166  15,004 / 16,660
    by sector                       104 / 145          57 / 61            116 / 141    3,508 / 4,015
    by channel                        18 / 26          13 / 14              71 / 90    2,788 / 4,266
    by month                            1 / 2          14 / 15              62 / 71    3,108 / 3,686
    category x locality             147 / 200                -            233 / 272    6,693 / 7,210
    category x provider             207 / 238        376 / 481            237 / 359    5,608 / 5,777
    category x loc x provider   2,001 / 2,417                -        4,312 / 5,513    6,045 / 6,537
    month x category x loc            24 / 29                -            228 / 361    6,207 / 6,208
    drill: home care by loc           16 / 16          28 / 32              42 / 44        698 / 816
    concentration (spend)           749 / 843                -        3,459 / 3,848                -

Elasticsearch's people counts are the rollups' exact ones (its own
``cardinality`` only for combinations no grouping holds); category x loc x
provider on Elasticsearch is from the run before (load 2.8), the others
from the last. (The naive run overlapped a test run of this session: load
1.8 at its start, 3.5 at its end.) Not under 300 ms at p95: published by
provider and category x provider (the provider grid hides thousands of
small cells, and people must be folded per provider and person with the
hidden months taken out), the analysts' category x locality x provider and
market concentration (hundreds of thousands of cells summed over the
months, on either backend), and Elasticsearch's category x provider and
month x category x locality at p95 (p50 under 240).

Elasticsearch, alias demand_purchases_v3 (23 November 2026, evening: a key
field per grouping, index sorted by month_number, one segment; the index
built by ``--reindex`` / ``manage.py reindex_demand_purchases`` in 2,031 s
at load 7 to 9, merge included). Before (v2 index, nested terms and
composite pages) and after, 5 runs each, locked, one after the other; load
average at the start in brackets; p50 / p95 ms:

    query (12 months)           before (5.0)      after (4.8)
    total                          101 / 105         78 / 82
    by category                    301 / 318        186 / 206
    by provider                    273 / 318        174 / 185
    category x locality            438 / 458        201 / 217
    category x provider            559 / 581        253 / 262
    category x loc x provider  6,368 / 6,896    1,524 / 1,582
    month x category x loc         609 / 730        244 / 286
    drill: home care by loc        115 / 198         31 / 43
    concentration (spend)      4,822 / 5,208      860 / 1,020

The previous period: category x loc x provider 6,211 -> 2,372 ms p50,
concentration 2,932 -> 881, category x provider 605 -> 247, month x
category x loc 493 -> 234. Not under 300 ms at p95: category x locality
x provider (~78,000 keys a year: Elasticsearch's terms aggregation over
them, rows built, is ~0.9 s at load 3.7, and its people come from the rollups'
exact_holders, ~0.65 s on its own; the two overlap only partly, both
building ~78,000 Python rows) and concentration (the same aggregation
without people); category x provider and month x category x loc are
under 300 at p95 at load 4.8 but not in an earlier after run at load 7.8
(category x provider 328 / 438, month x category x loc 491 / 602, category
x loc x provider 2,771 / 2,973, concentration 2,357 / 2,429).

Incremental (load 4.2): the random day's 6,839 purchases applied in 6.3 s
(taken away 13.1 s, put back 8.7 s); a day like the data's (6,794
purchases) in 3.2 s. Build: COPY of 5,000,000 purchases
181 s; rollups, members, reach (migrations 0005, at load 6 to 10 beside the
index build) 1,804 s; patterns 0006/0007 under 2 minutes; the purchases
index 2,389 s. The first build of this benchmark (reach per calendar
year, no per-dimension groupings; load 4 to 5) had by category 776, by
provider 1,234, category x provider 1,520, published by provider 4,782
and a day applied in 3.3 s.
"""

import argparse
import itertools
import os
import random
import statistics
import time
from datetime import date, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402
from django.db.models.functions import TruncMonth  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.load import nearest_rank  # noqa: E402
from commissioning.demand.disclosure import published_figures  # noqa: E402
from commissioning.demand.models import DemandRollup  # noqa: E402
from commissioning.demand.selectors import (  # noqa: E402
    DemandQuery,
    market_concentration,
    rollup_concentration,
    rollup_figures,
)
from commissioning.demand.services import demand_rollups_apply, demand_rollups_rebuild  # noqa: E402
from marketplace.accounts.models import BudgetHolder, CareGroup  # noqa: E402
from marketplace.payments.models import Purchase  # noqa: E402
from marketplace.providers.models import Organisation, Sector  # noqa: E402
from marketplace.providers.taxonomy import ServiceCategory  # noqa: E402

DISTRICTS = [f"N{n}" for n in range(1, 23)] + ["EN4", "EN5", "NW4", "NW7", "NW9", "HA8"]
START, DAYS = date(2024, 1, 1), 731
PERIOD = DemandQuery(start=date(2024, 12, 1), end=date(2025, 11, 1))
PROVIDERS = 300
COLUMNS = (
    "budget_holder_id, organisation_id, category, amount_pence, occurred_on, channel, "
    "source_reference, merchant_name, merchant_category_code, match_status, match_confidence, "
    "care_group, postcode_district, sector, created_at, merchant_key, merchant_postcode, "
    "stripe_merchant_id"
)


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile of timings in seconds, in ms."""
    return nearest_rank(samples, p) * 1000


def _copy_purchases(rows) -> None:
    """COPY rows into purchases with secondary indexes and FK triggers off, then rebuild them."""
    table = Purchase._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, table],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")  # no FK triggers: ids are ours
        try:
            with cursor.cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)


def load(scale: int, rng: random.Random) -> None:
    """``scale`` synthetic purchases over two years (see the module docstring for their shape)."""
    now = timezone.now()
    BudgetHolder.objects.bulk_create(
        [
            BudgetHolder(
                full_name=f"Bench {i}",
                date_of_birth=date(1950, 1, 1),
                care_group=rng.choice(CareGroup.values),
                postcode=f"{rng.choice(DISTRICTS)} 1AA",
                council_reference=f"BENCH-{i:08d}",
            )
            for i in range(max(1000, scale // 150))
        ],
        batch_size=5000,
    )
    holders = list(
        BudgetHolder.objects.filter(council_reference__startswith="BENCH-").values_list(
            "pk", "care_group", "postcode"
        )
    )
    Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"Bench provider {i}",
                slug=f"bench-provider-{i}",
                sector=rng.choice(Sector.values),
            )
            for i in range(PROVIDERS)
        ]
    )
    orgs = list(
        Organisation.objects.filter(slug__startswith="bench-provider-")
        .order_by("pk")
        .values_list("pk", "sector")
    )
    popularity = list(itertools.accumulate(1 / rank for rank in range(1, len(orgs) + 1)))
    categories = ServiceCategory.values
    packages = {
        holder[0]: [
            (rng.choice(categories), rng.choices(orgs, cum_weights=popularity)[0])
            for _ in range(rng.randint(1, 4))
        ]
        for holder in holders
    }

    def rows():
        for i in range(scale):
            holder_id, care_group, postcode = rng.choice(holders)
            if rng.random() < 0.85:
                category, (org_id, sector) = rng.choice(packages[holder_id])
            else:
                category, (org_id, sector) = (
                    rng.choice(categories),
                    rng.choices(orgs, cum_weights=popularity)[0],
                )
            yield (
                holder_id,
                org_id,
                category,
                rng.randrange(500, 9000),
                START + timedelta(days=rng.randrange(DAYS)),
                "marketplace",
                f"bench-{i}",
                "",
                "",
                "matched",
                100,
                care_group,
                postcode.split()[0],
                sector,
                now,
                "",
                "",
                "",
            )

    _copy_purchases(rows())


def dashboard_queries(period: DemandQuery) -> dict[str, DemandQuery]:
    """The figure queries the dashboard, its exports and the API run for one period."""
    queries = {"total": period}
    for name in ("category", "locality", "care_group", "provider", "sector", "channel", "month"):
        queries[f"by {name}"] = period.with_changes(group_by=(name,))
    queries["category x locality"] = period.with_changes(group_by=("category", "locality"))
    queries["category x provider"] = period.with_changes(group_by=("category", "provider"))
    queries["category x loc x provider"] = period.with_changes(
        group_by=("category", "locality", "provider")
    )
    queries["month x category x loc"] = period.with_changes(
        group_by=("month", "category", "locality")
    )
    queries["drill: home care by loc"] = period.with_changes(
        group_by=("locality",), filters=(("category", ("home_care",)),)
    )
    return queries


PUBLISHED = (
    "total",
    "by category",
    "by locality",
    "by care_group",
    "by provider",
    "by sector",
    "by channel",
    "by month",
    "category x provider",
    "drill: home care by loc",
)


def naive(query: DemandQuery):
    """The same figures straight from purchases, the way one would write it without rollups."""
    fields = [
        {
            "category": "category",
            "locality": "postcode_district",
            "provider": "organisation_id",
            "care_group": "care_group",
            "sector": "sector",
            "channel": "channel",
        }.get(n, "month")
        for n in query.group_by
    ]
    qs = Purchase.objects.filter(
        occurred_on__gte=query.start, occurred_on__lt=_month_after(query.end)
    ).annotate(month=TruncMonth("occurred_on"))
    for name, values in query.filters:
        qs = qs.filter(**{f"{name}__in": values})
    measures = {
        "s": Sum("amount_pence"),
        "c": Count("pk"),
        "h": Count("budget_holder_id", distinct=True),
    }
    if fields:
        return list(qs.values(*fields).annotate(**measures).order_by())
    return qs.aggregate(**measures)


def _month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def time_backend(name: str, run, queries: dict, repeat: int, labels=None, naive=False) -> None:
    periods = [("12 months", PERIOD), ("previous", PERIOD.previous_period())]
    if naive:  # seconds a run: the 12 months only, and no warm-up run
        periods = periods[:1]
    for label, query in queries.items():
        if labels is not None and label not in labels:
            continue
        for period_label, period in periods:
            shifted = query.with_changes(start=period.start, end=period.end)
            if not naive:
                run(shifted)  # warm-up
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                run(shifted)
                samples.append(time.perf_counter() - started)
            print(
                f"{name:13} {label:26} {period_label:9} p50 {statistics.median(samples) * 1000:8.1f} ms"
                f"  p95 {percentile(samples, 95):8.1f} ms  (n={repeat})",
                flush=True,
            )


def _random_day(rng: random.Random) -> list[Purchase]:
    """A day's purchases (the data's daily number), each from a random provider in a random
    category: nearly every one makes someone new to a cell, the worst case for the upkeep."""
    per_day = Purchase.objects.filter(source_reference__startswith="bench-").count() // DAYS
    holders = list(
        BudgetHolder.objects.filter(council_reference__startswith="BENCH-").values_list(
            "pk", "care_group", "postcode"
        )
    )
    orgs = list(
        Organisation.objects.filter(slug__startswith="bench-provider-").values_list("pk", "sector")
    )
    day = START + timedelta(days=DAYS - 1)
    purchases = []
    for i in range(per_day):
        holder_id, care_group, postcode = rng.choice(holders)
        org_id, sector = rng.choice(orgs)
        purchases.append(
            Purchase(
                budget_holder_id=holder_id,
                organisation_id=org_id,
                category=rng.choice(ServiceCategory.values),
                amount_pence=rng.randrange(500, 9000),
                occurred_on=day,
                channel="card",
                source_reference=f"bench-day-{time.time_ns()}-{i}",
                match_status="matched",
                care_group=care_group,
                postcode_district=postcode.split()[0],
                sector=sector,
            )
        )
    return purchases


def incremental(rng: random.Random) -> None:
    day = START + timedelta(days=DAYS - 1)
    purchases = _random_day(rng)
    _add_day(purchases, f"a day's {len(purchases):,} purchases")
    started = time.perf_counter()
    with transaction.atomic():
        demand_rollups_apply(purchases=purchases, sign=-1)
        middle = time.perf_counter()
        demand_rollups_apply(purchases=purchases, sign=1)
    print(
        f"incremental: the same day taken away in {middle - started:.2f} s, "
        f"put back in {time.perf_counter() - middle:.2f} s",
        flush=True,
    )
    _remove_day(purchases)
    # The same day as the data's own days are made: the purchases of the day before, again
    # (mostly people's regular services, so few people are new to a cell that month).
    like = [
        Purchase(
            **{
                f.attname: getattr(p, f.attname)
                for f in Purchase._meta.concrete_fields
                if f.attname not in ("id", "occurred_on", "source_reference", "created_at")
            },
            occurred_on=day,
            source_reference=f"bench-like-{time.time_ns()}-{i}",
        )
        for i, p in enumerate(
            Purchase.objects.filter(
                occurred_on=day - timedelta(days=1), source_reference__startswith="bench-"
            )
        )
    ]
    _add_day(like, f"a day like the data's ({len(like):,} purchases: the day before's again)")
    _remove_day(like)


def es_incremental(rng: random.Random) -> None:
    """A random day's purchases through the Elasticsearch upkeep, as the task after their
    commit runs it (``purchases_index_ids``: the purchases indexed, their cells summed afresh
    and written), timed; then the day deleted and taken out of both indexes the same way."""
    from commissioning.demand.elasticsearch import cells_alias_name, purchases_index_ids
    from search.client import get_client

    client = get_client()
    purchases = _random_day(rng)
    with override_settings(ELASTICSEARCH_URL=""):  # the rows only: no task, no rollups
        Purchase.objects.bulk_create(purchases, batch_size=5000)
    ids = [p.pk for p in purchases]
    cells_before = client.count(index=cells_alias_name())["count"]
    started = time.perf_counter()
    indexed = purchases_index_ids(purchase_ids=ids)
    added = time.perf_counter() - started
    Purchase.objects.filter(pk__in=ids).delete()
    started = time.perf_counter()
    purchases_index_ids(purchase_ids=ids)
    removed = time.perf_counter() - started
    client.indices.refresh(index=cells_alias_name())
    print(
        f"elasticsearch incremental: a day's {indexed:,} purchases indexed and their cells "
        f"updated in {added:.2f} s; deleted and taken out in {removed:.2f} s "
        f"(cells {cells_before:,} before, {client.count(index=cells_alias_name())['count']:,} after)",
        flush=True,
    )


def _add_day(purchases: list[Purchase], label: str) -> None:
    """Insert a day's purchases and apply them to the rollups in one transaction, timed."""
    started = time.perf_counter()
    with transaction.atomic():
        Purchase.objects.bulk_create(purchases, batch_size=5000)
        after_insert = time.perf_counter()
        demand_rollups_apply(purchases=purchases, sign=1)
    done = time.perf_counter()
    print(
        f"incremental: {label} inserted in {after_insert - started:.2f} s, "
        f"rollups applied in {done - after_insert:.2f} s (total {done - started:.2f} s)",
        flush=True,
    )


def _remove_day(purchases: list[Purchase]) -> None:
    """Take a day added by _add_day out again, so later runs find the data as built."""
    with transaction.atomic():
        demand_rollups_apply(purchases=purchases, sign=-1)
        Purchase.objects.filter(pk__in=[p.pk for p in purchases]).delete()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=100_000, help="purchases to load")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--only",
        nargs="+",
        default=["incremental", "rollups", "published", "elasticsearch", "naive"],
        choices=[
            "build",
            "incremental",
            "rollups",
            "members",
            "published",
            "elasticsearch",
            "naive",
        ],
        help="build: only load the data and rebuild the rollups (no timing)",
    )
    parser.add_argument("--reindex", action="store_true", help="rebuild the purchases index")
    parser.add_argument("--skip", nargs="*", default=[], help="query labels to leave out")
    parser.add_argument("--base-url", default="", help="unused: queries run in-process")
    args = parser.parse_args()
    scale = args.scale if args.scale >= 1000 else args.scale * 100_000
    rng = random.Random(5)
    print(f"bench.demand: load average {os.getloadavg()}", flush=True)
    if not Purchase.objects.filter(source_reference__startswith="bench-").exists():
        started = time.perf_counter()
        load(scale, rng)
        print(f"loaded {scale:,} purchases in {time.perf_counter() - started:.1f} s", flush=True)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Purchase._meta.db_table}")
    if not DemandRollup.objects.exists():
        started = time.perf_counter()
        cells, members = demand_rollups_rebuild()
        print(
            f"rebuild: {cells:,} cells, {members:,} members in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        with connection.cursor() as cursor:
            # What autovacuum does soon after a bulk load: the visibility map, so dashboard
            # queries can use index-only scans.
            for table in (
                "demand_demandrollup",
                "demand_demandrollupmember",
                "demand_demandrollupreach",
                "demand_demandrolluppattern",
            ):
                cursor.execute(f"VACUUM ANALYZE {table}")
    purchases = Purchase.objects.filter(source_reference__startswith="bench-").count()
    print(f"database {settings.DATABASES['default']['NAME']}: {purchases:,} purchases", flush=True)
    queries = {k: v for k, v in dashboard_queries(PERIOD).items() if k not in args.skip}
    if "incremental" in args.only:
        with override_settings(ELASTICSEARCH_URL=""):
            incremental(rng)
    # Market concentration for analysts (category x locality x provider) needs spend alone.
    spend_only = {
        "concentration (spend)": PERIOD.with_changes(group_by=("category", "locality", "provider"))
    }
    spend_only = {k: v for k, v in spend_only.items() if k not in args.skip}
    # The analysts' whole concentration table (shares, top 3, HHI per category and locality):
    # from the spend rows in Python as the page did, and summed per market in PostgreSQL.
    markets = ("category", "locality")
    concentration = {
        label: PERIOD.with_changes(group_by=(*markets, "provider"))
        for label in ("concentration, Python", "concentration, in SQL")
        if label not in args.skip
    }
    if "rollups" in args.only:
        time_backend("rollups", lambda q: rollup_figures(query=q), queries, args.repeat)
        time_backend(
            "rollups", lambda q: rollup_figures(query=q, people=False), spend_only, args.repeat
        )
        for label, run in (
            (
                "concentration, Python",
                lambda q: market_concentration(
                    rows=rollup_figures(query=q, people=False), market_dims=markets
                ),
            ),
            (
                "concentration, in SQL",
                lambda q: rollup_concentration(query=q, market_dims=markets),
            ),
        ):
            if label in concentration:
                time_backend("rollups", run, {label: concentration[label]}, args.repeat)

    if "members" in args.only:
        # The first build's way to count people: COUNT(DISTINCT) over the monthly member rows.
        from unittest import mock

        def from_members(query):
            with mock.patch("commissioning.demand.selectors.reach_kept", return_value=False):
                return rollup_figures(query=query)

        time_backend("members", from_members, queries, args.repeat)
    if "published" in args.only:

        def published(query):
            with override_settings(ELASTICSEARCH_URL=""):
                return published_figures(query=query)

        time_backend("published", published, queries, args.repeat, labels=PUBLISHED)
    if "elasticsearch" in args.only and settings.ELASTICSEARCH_URL:
        from commissioning.demand.elasticsearch import (
            alias_name,
            cells_alias_name,
            es_concentration,
            es_figures,
            purchases_reindex,
        )
        from search.client import get_client

        client = get_client()
        alias = alias_name()
        indexed = (
            client.count(index=alias)["count"] if client.indices.exists_alias(name=alias) else 0
        )
        if (
            args.reindex
            or indexed != Purchase.objects.count()
            or not client.indices.exists_alias(name=cells_alias_name())
        ):
            started = time.perf_counter()
            written = purchases_reindex()
            print(
                f"elasticsearch: indexed {written:,} purchases in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
        if "incremental" in args.only:
            es_incremental(rng)
        # Each repeat must aggregate, not replay Elasticsearch's shard request cache (live
        # purchases keep invalidating it in production anyway).
        client.indices.put_settings(
            index=f"{alias},{cells_alias_name()}",
            settings={"index.requests.cache.enable": False},
        )
        time_backend("elasticsearch", lambda q: es_figures(query=q), queries, args.repeat)
        time_backend(
            "elasticsearch", lambda q: es_figures(query=q, people=False), spend_only, args.repeat
        )
        if "concentration, in SQL" in concentration:  # the page's way on Elasticsearch
            time_backend(
                "elasticsearch",
                lambda q: es_concentration(query=q, market_dims=markets),
                {"concentration, per market": PERIOD},
                args.repeat,
            )
    if "naive" in args.only:
        time_backend("naive", naive, queries, 3, naive=True)
    print(f"bench.demand: load average {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
