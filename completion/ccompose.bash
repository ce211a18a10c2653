# bash completion for ccompose: commands, flags, flag values and service names.
#
# Nothing here lists a command or a flag: they are read from `ccompose --help` and
# `ccompose COMMAND --help` when TAB is pressed, and the services from `ccompose config
# --services` for the compose file in the current directory (or the -f, -p, --project-directory,
# --env-file and --profile flags already typed), so that the completion never lags behind the
# binary it completes. A flag's values come from its description when it lists them, as docker
# compose's descriptions do: ("never"|"always"|"auto"), [yaml | json], (auto, tty, plain).
#
# Installed by `make install` into share/bash-completion/completions/ccompose; to try it from a
# checkout: `source completion/ccompose.bash`.

# Reads a --help text on stdin. Prints, by what:
#   commands        the names under "Commands:"
#   flags           every flag under "Options:" (-x and --name)
#   values FLAG     "-" when FLAG takes no value, else "+" and the values its description lists
_ccompose_help() {
    awk -v what="${1-}" -v flag="${2-}" '
    function flush() {
        if (long == "") return
        if (what == "flags") { if (short != "") print short; print long }
        if (what == "values" && (flag == long || flag == short)) {
            if (!arg) { print "-"; found = 1; long = ""; return }
            vals = ""
            if (match(desc, /[[(]"?[A-Za-z0-9-]+"?( *[|,] *"?[A-Za-z0-9-]+"?)+[])]/)) {
                vals = substr(desc, RSTART + 1, RLENGTH - 2)
                gsub(/"/, "", vals)
                gsub(/ *[|,] */, " ", vals)
            }
            print "+ " vals
            found = 1
        }
        long = ""
    }
    /^Commands:/ { flush(); sect = "commands"; next }
    /^Options:/ { flush(); sect = "options"; next }
    /^[^ ]/ { flush(); sect = ""; next }
    sect == "commands" && what == "commands" && /^  [a-z]/ { print $1; next }
    sect == "options" && /^ +-/ {
        flush()
        line = $0
        sub(/^ +/, "", line)
        short = ""
        if (match(line, /^-[A-Za-z0-9], /)) { short = substr(line, 1, 2); line = substr(line, 5) }
        if (!match(line, /^--[A-Za-z0-9-]+/)) next
        long = substr(line, 1, RLENGTH)
        line = substr(line, RLENGTH + 1)
        # A value type ("string", "int", "stringArray") stands one space after the name.
        arg = match(line, /^ [A-Za-z]+  /) ? 1 : 0
        desc = line
        next
    }
    sect == "options" && /^ +[^ -]/ && long != "" { d = $0; sub(/^ +/, "", d); desc = desc " " d }
    END { flush(); if (what == "values" && !found) print "?" }
    '
}

# The global flags that take a value, as the compose file's services depend on them.
_ccompose_global_with_value() {
    case "$1" in
    -f | --file | -p | --project-name | --project-directory | --env-file | --profile | -H | --host | \
        --ansi | --progress | --parallel) return 0 ;;
    esac
    return 1
}

_ccompose() {
    local bin=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
    local prev= cmd= cmd_at=0 i w
    local -a globals=() args=()
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()

    # The global flags typed so far (kept, to find the same project) and the command.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ -z $cmd ]]; then
            if _ccompose_global_with_value "$w"; then
                # Its value is the word being completed: not a flag to pass on yet.
                ((i + 1 < COMP_CWORD)) && globals+=("$w" "${COMP_WORDS[i + 1]}")
                ((i++))
            elif [[ $w == -* ]]; then
                globals+=("$w")
            else
                cmd=$w
                cmd_at=$i
            fi
        elif [[ $w != -* ]]; then
            args+=("$w")
        fi
    done

    local help values
    if [[ -z $cmd ]]; then
        help=$("$bin" --help 2>/dev/null)
    else
        help=$("$bin" "$cmd" --help 2>/dev/null)
    fi

    # The value of a flag: from its description, files, directories or profiles.
    if [[ $prev == -* ]] && ((COMP_CWORD - 1 > cmd_at || !cmd_at)); then
        values=$(_ccompose_help values "$prev" <<<"$help")
        if [[ $values == +* ]]; then
            values=${values#+}
            case "$prev" in
            -f | --file | --env-file | -o | --output)
                [[ -z $cmd || $prev != -f ]] && values=$(compgen -f -- "$cur")
                ;;
            --project-directory) values=$(compgen -d -- "$cur") ;;
            --profile) values=$("$bin" "${globals[@]}" config --profiles 2>/dev/null) ;;
            esac
            [[ -n ${values// /} ]] && mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
            return 0
        fi
    fi

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_ccompose_help flags <<<"$help")" -- "$cur")
        return 0
    fi
    if [[ -z $cmd ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_ccompose_help commands <<<"$help")" -- "$cur")
        return 0
    fi

    # After the command: its own subcommands (stack), command names (help), or services.
    local subcommands usage
    subcommands=$(_ccompose_help commands <<<"$help")
    usage=$(head -n 1 <<<"$help")
    if [[ $cmd == help ]]; then
        ((${#args[@]} == 0)) &&
            mapfile -t COMPREPLY < <(compgen -W "$("$bin" --help 2>/dev/null |
                _ccompose_help commands)" -- "$cur")
    elif [[ -n $subcommands ]]; then
        ((${#args[@]} == 0)) && mapfile -t COMPREPLY < <(compgen -W "$subcommands" -- "$cur")
    elif [[ $usage == *SERVICE* ]]; then
        # "SERVICE COMMAND": one service, then the command is the user's own.
        if [[ $usage == *"SERVICE [COMMAND]"* || $usage == *"SERVICE COMMAND"* ]] &&
            ((${#args[@]} > 0)); then
            return 0
        fi
        mapfile -t COMPREPLY < <(compgen -W "$("$bin" "${globals[@]}" config --services \
            2>/dev/null)" -- "$cur")
    fi
    return 0
}

complete -F _ccompose ccompose
