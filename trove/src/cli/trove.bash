# trove.bash: bash completion for trove(1), installed as
# share/bash-completion/completions/trove. Completes commands, options and
# their values, and source names, which it reads from the database with
# `trove source list --names` (the --db given on the line, else the
# default; an absent database gives no names and creates nothing).
# Kept in step with the usage texts of main.c and cmd_*.c.

# Prints the source names, one a line.
_trove_sources() {
  local i w db=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ $w == --db ]]; then # --db PATH, or --db=PATH (bash splits at =)
      [[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
      db=(--db "${COMP_WORDS[i + 1]/#\~/$HOME}")
    fi
  done
  "${COMP_WORDS[0]/#\~/$HOME}" "${db[@]}" source list --names 2>/dev/null
}

# Sets COMPREPLY to the words of $1 (one a line) that start with $cur.
_trove_words() {
  local IFS=$'\n'
  COMPREPLY=($(compgen -W "$1" -- "$cur"))
}

# Sets COMPREPLY to the source names that start with $cur, quoted for the
# shell (a name may hold spaces).
_trove_names() {
  local IFS=$'\n' n
  COMPREPLY=()
  for n in $(compgen -W "$(_trove_sources)" -- "$cur"); do
    COMPREPLY+=("$(printf '%q' "$n")")
  done
}

# Sets COMPREPLY to the paths that start with $cur: $1 is -f (files and
# directories) or -d (directories).
_trove_paths() {
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null
  COMPREPLY=($(compgen "$1" -- "$cur"))
}

_trove() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local i w cmd="" at=0
  local nl=$'\n'
  [[ $prev == = && $COMP_CWORD -ge 2 ]] && prev=${COMP_WORDS[COMP_CWORD - 2]}
  [[ $cur == = ]] && cur=""

  # An option's value, wherever it is.
  case $prev in
  --db) _trove_paths -f; return ;;
  --model) _trove_paths -d; return ;;
  --kernel) _trove_words "auto${nl}fp32${nl}int8${nl}bf16"; return ;;
  --color) _trove_words "auto${nl}always${nl}never"; return ;;
  --mode) _trove_words "hybrid${nl}semantic${nl}keyword"; return ;;
  -t) _trove_words "local${nl}web${nl}bookmark"; return ;;
  -s) _trove_names; return ;;
  --retention) _trove_words "keep${nl}mirror"; return ;;
  -n | --like | --corpus | --glob | --exclude | --since | --until | --exclude-domain | --url | \
    --domain | --port | --listen) return ;;
  esac

  # The command: the first word after the global options and their values.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
    --db | --model | --kernel | --color)
      ((i++))
      [[ ${COMP_WORDS[i]} == = ]] && ((i++))
      ;;
    -*) ;;
    *) cmd=$w at=$i; break ;;
    esac
  done

  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      _trove_words "--db${nl}--model${nl}--no-model${nl}--kernel${nl}--color${nl}-v${nl}--verbose${nl}--version${nl}--help"
    else
      _trove_words "source${nl}scan${nl}watch${nl}reprocess${nl}search${nl}print${nl}hide${nl}unhide${nl}skipped${nl}stats${nl}eval${nl}forget${nl}serve${nl}help"
    fi
    return
  fi

  local pos=$((COMP_CWORD - at)) # 1: the word after the command
  case $cmd in
  source)
    local sub=${COMP_WORDS[at + 1]}
    if ((pos == 1)); then
      _trove_words "add${nl}list${nl}edit${nl}remove"
      return
    fi
    case $sub in
    add)
      if [[ $cur == -* ]]; then
        _trove_words "--glob${nl}--exclude${nl}--exclude-domain${nl}--retention${nl}--help"
      elif ((pos == 3)); then
        _trove_words "fs${nl}chromium-history${nl}chromium-bookmarks${nl}firefox"
      elif ((pos == 4)); then
        _trove_paths -d
      fi
      ;;
    list) _trove_words "--json${nl}--names${nl}--help" ;;
    edit)
      if [[ $cur == -* ]]; then
        _trove_words "--glob${nl}--exclude${nl}--no-glob${nl}--no-exclude${nl}--exclude-domain${nl}--no-exclude-domain${nl}--retention${nl}--no-wait${nl}--help"
      elif ((pos == 2)); then
        _trove_names
      fi
      ;;
    remove)
      if [[ $cur == -* ]]; then _trove_words "--help"; else _trove_names; fi
      ;;
    esac
    ;;
  scan | reprocess)
    if [[ $cur == -* ]]; then
      if [[ $cmd == scan ]]; then _trove_words "--force${nl}--reembed${nl}--no-wait${nl}--help"
      else _trove_words "--no-wait${nl}--help"; fi
    else
      _trove_names
    fi
    ;;
  watch)
    if [[ $cur == -* ]]; then _trove_words "--poll${nl}--quiet${nl}-q${nl}--help"
    elif [[ $prev != --poll ]]; then _trove_names; fi
    ;;
  search)
    [[ $cur == -* ]] &&
      _trove_words "--mode${nl}-n${nl}-s${nl}-t${nl}--since${nl}--until${nl}--explain${nl}--json${nl}--like${nl}--help"
    ;;
  print) [[ $cur == -* ]] && _trove_words "--raw${nl}--force${nl}--json${nl}--help" ;;
  hide | unhide) [[ $cur == -* ]] && _trove_words "--help" ;;
  forget) [[ $cur == -* ]] && _trove_words "--url${nl}--domain${nl}-s${nl}--json${nl}--no-wait${nl}--help" ;;
  stats) [[ $cur == -* ]] && _trove_words "--json${nl}--help" ;;
  skipped)
    if [[ $cur == -* ]]; then _trove_words "--json${nl}--help"; else _trove_names; fi
    ;;
  help)
    if ((pos == 1)); then
      _trove_words "source${nl}scan${nl}watch${nl}reprocess${nl}search${nl}print${nl}hide${nl}unhide${nl}skipped${nl}stats${nl}eval${nl}forget${nl}serve"
    elif ((pos == 2)) && [[ ${COMP_WORDS[at + 1]} == source ]]; then
      _trove_words "add${nl}list${nl}edit${nl}remove"
    fi
    ;;
  eval)
    if [[ $cur == -* ]]; then
      _trove_words "--mode${nl}--corpus${nl}--trace${nl}--json${nl}--help"
    else
      _trove_paths -f
    fi
    ;;
  serve) [[ $cur == -* ]] && _trove_words "--port${nl}--listen${nl}--open${nl}--no-watch${nl}--poll${nl}--help" ;;
  esac
}

complete -F _trove trove
