#!/usr/bin/env bash
# Prints the stacks a workflow acts on, as a JSON array for a job matrix (`stacks=[...]` with --output).
#   stacks.sh all         every stacks/Pulumi.<stack>.yaml
#   stacks.sh deployable  the stacks listed in .github/deployable-stacks (one per line, # comments);
#                         each must have its stacks/Pulumi.<stack>.yaml, else it exits 1.
# Run from the repository root.
set -euo pipefail

mode="${1:-}"
declare -a stacks=()
case "$mode" in
all)
    for file in stacks/Pulumi.*.yaml; do
        [ -e "$file" ] || continue
        name="${file#stacks/Pulumi.}"
        stacks+=("${name%.yaml}")
    done
    ;;
deployable)
    while IFS= read -r line || [ -n "$line" ]; do
        line="${line%%#*}"
        line="$(echo "$line" | tr -d '[:space:]')"
        [ -n "$line" ] || continue
        if [ ! -f "stacks/Pulumi.$line.yaml" ]; then
            echo "deployable stack \"$line\" has no stacks/Pulumi.$line.yaml" >&2
            exit 1
        fi
        stacks+=("$line")
    done < .github/deployable-stacks
    ;;
*)
    echo "usage: $0 all|deployable" >&2
    exit 2
    ;;
esac

json="["
for i in "${!stacks[@]}"; do
    [ "$i" -eq 0 ] || json+=","
    json+="\"${stacks[$i]}\""
done
json+="]"
echo "$json"
