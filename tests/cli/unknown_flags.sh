# Every command of commands.def (and every subcommand its --help shows)
# rejects a misspelt flag with exit 2 and suggests the flag that was meant.
# The flag to misspell is the longest one the command's --help documents and
# accepts, with two letters swapped (one edit away), so the test follows new flags.
commands=$(sed -n 's/^MX_COMMAND("\([a-z]*\)".*/\1/p' "$MERX_SRC/src/cli/commands.def")
test -n "$commands" || { echo "FAIL: no commands read from commands.def"; exit 1; }
checked=0
# Under the sanitizers every third command: the flags of all of them go through
# one parser (mx__args_parse), and the plain build's run checks every command.
stride=1
case "$(ldd "$MERX" 2>/dev/null || true)" in *libasan*) stride=3 ;; esac
n=0
for cmd in $commands; do
  n=$((n + 1))
  [ $((n % stride)) -eq 0 ] || continue
  "$MERX" "$cmd" --help > help.txt 2>&1 || true
  subs=$(sed -n "s/^.*merx $cmd \([a-z][a-z]*\) .*\$/\1/p" help.txt | sort -u)
  for sub in ${subs:-""}; do
    # shellcheck disable=SC2086  # $sub is empty or one word
    "$MERX" $cmd $sub --help > sub_help.txt 2>&1 || true
    flags=$(grep -o -- '--[a-z][a-z-]*' sub_help.txt | sed 's/^--//' | sort -u || true)
    if [ -z "$flags" ]; then
      # no flags (merx version): a flag is refused all the same
      expect_exit 2 "$MERX" $cmd $sub --jsno
      expect_contains err.txt "unknown option '--jsno'"
      checked=$((checked + 1))
      continue
    fi
    # the longest documented flag this (sub)command accepts (a help text may
    # cover several subcommands): --FLAG=x --help prints the help, or says
    # FLAG takes no value, but never "unknown option"
    flag=""
    for f in $(printf '%s\n' $flags | grep -v '^help$' | awk '{ print length($0), $0 }' | sort -k1,1nr -k2 | cut -d' ' -f2); do
      "$MERX" $cmd $sub "--$f=x" --help > probe.txt 2>&1 || true
      if ! grep -q "unknown option" probe.txt; then flag=$f; break; fi
    done
    test -n "$flag" || { echo "FAIL: merx $cmd $sub accepts none of the flags its --help shows"; exit 1; }
    typo="${flag:0:1}${flag:2:1}${flag:1:1}${flag:3}"
    # (a flag whose 2nd and 3rd letters are the same, --assignments: swap the next two)
    [ "$typo" != "$flag" ] || typo="${flag:0:2}${flag:3:1}${flag:2:1}${flag:4}"
    expect_exit 2 "$MERX" $cmd $sub "--$typo"
    expect_contains err.txt "unknown option '--$typo' (did you mean '--$flag'?)"
    checked=$((checked + 1))
  done
done
test "$checked" -ge $((22 / stride)) || { echo "FAIL: only $checked commands checked"; exit 1; }
# a flag far from every option points to --help instead of guessing
expect_exit 2 "$MERX" train --zzzzzz
expect_contains err.txt "unknown option '--zzzzzz' (see merx train --help)"
# --name=value is checked by its name
expect_exit 2 "$MERX" forecast --horizn=7
expect_contains err.txt "did you mean '--horizon'?"
# a misspelt command is answered the same way
expect_exit 2 "$MERX" trian --data x
expect_contains err.txt "unknown command 'trian' (did you mean 'train'?)"
# and so is a misspelt subcommand
expect_exit 2 "$MERX" model inpsect --model x.mxm
expect_contains err.txt "merx model: unknown subcommand 'inpsect' (known: info, export, import)"
expect_exit 2 "$MERX" model exprot --model x.mxm
expect_contains err.txt "merx model: unknown subcommand 'exprot' (did you mean 'export'?)"
expect_exit 2 "$MERX" data stast --data x.csv
expect_contains err.txt "did you mean 'stats'?"
expect_exit 2 "$MERX" coldstart evl
expect_contains err.txt "did you mean 'eval'?"
