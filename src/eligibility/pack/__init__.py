"""Rule packs: YAML files loaded, validated and checked into an immutable RulePack."""
