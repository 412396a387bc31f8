"""The maintainer's generators and checks, run from the checkout as modules: ``./run python -m tools.NAME``.

Each generator writes committed files and, with ``--check``, only reports whether they are current (exit 1
when not; the test suite runs every ``--check``). In the order to run them after a change (docs/development.md):

    gen_extended            entries and resource schemas beyond the seed, from Outreach's hyper-schema
    gen_resources           schemas/resources/*.json from the vendor facts and the reviewed overlays
    gen_operation_schemas   schemas/operations|ddl/*.json from the entries and resource schemas
    gen_triggers            triggers/*.yaml and schemas/triggers/*.json
    gen_scopes              connector.yaml's OAuth scopes and the README's copy
    gen_operations_doc      the operations tables in docs/operations.md
    gen_catalogue_index     catalogue-index.json, the entry files already parsed

    extract_vendor_facts    tools/data/vendor-facts from the reference folder beside the project (maintainer)
    extract_fixtures        fixtures/samples from the operations spec beside the project (maintainer)
    screenshots             the editor's screenshots in docs/, from its browser tests

The rest are modules the generators share: ``generated`` (write or check), ``observed`` and
``create_requirements`` (the reviewed data), ``editor_fields`` (titles and folding for the editor).
"""
