/** `camera-cli completion bash`: a bash completion script for the commands and their options. */
import { COMMANDS } from './commands.js';

export function completionScript(): string {
  const top = [...new Set(COMMANDS.map((c) => c.words[0]))].concat('completion', 'help');
  const subs = new Map<string, string[]>();
  for (const c of COMMANDS) {
    if (c.words.length > 1) subs.set(c.words[0]!, [...(subs.get(c.words[0]!) ?? []), c.words[1]!]);
  }
  const options = new Map<string, string>();
  for (const c of COMMANDS)
    options.set(c.words.join(' '), c.options.map((o) => `--${o}`).join(' '));
  const global = '--url --token --profile --json --timeout --help';
  const subCases = [...subs]
    .map(
      ([w, list]) =>
        `      ${w}) COMPREPLY=($(compgen -W "${list.join(' ')}" -- "$cur")); return ;;`,
    )
    .join('\n');
  // Two words match exactly; one word is followed by whatever argument comes next.
  const optCases = [...options]
    .map(([w, list]) => `      ${w.includes(' ') ? `"${w}"` : `"${w} "*`}) opts="${list}" ;;`)
    .join('\n');
  return `# bash completion for camera-cli: source <(camera-cli completion bash)
_camera_cli() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local words=() w
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    [[ "$w" == -* ]] || words+=("$w")
  done
  if [[ "$cur" == -* ]]; then
    local opts=""
    case "\${words[0]} \${words[1]}" in
${optCases}
    esac
    COMPREPLY=($(compgen -W "$opts ${global}" -- "$cur"))
    return
  fi
  if [[ \${#words[@]} -eq 0 ]]; then
    COMPREPLY=($(compgen -W "${top.join(' ')}" -- "$cur"))
    return
  fi
  if [[ \${#words[@]} -eq 1 ]]; then
    case "\${words[0]}" in
${subCases}
      completion) COMPREPLY=($(compgen -W "bash" -- "$cur")); return ;;
    esac
  fi
  COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _camera_cli camera-cli
`;
}
