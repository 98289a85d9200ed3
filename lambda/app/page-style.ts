/** The session page's stylesheet, served as an external file (the CSP allows no inline style). */
export const PAGE_STYLE = String.raw`:root { color-scheme: light dark; }
html.theme-light { --bg: #fafafa; --fg: #1d1d1f; --muted: #5f6368; --card: #ffffff; --line: #d9d9de; --accent: #0b57d0; --warn-bg: #fff4e5; --warn-fg: #7a4100; --err-bg: #fde8e8; --err-fg: #8a1c1c; --info-bg: #e8f0fe; --info-fg: #174ea6; }
html.theme-dark { --bg: #16181c; --fg: #e8eaed; --muted: #9aa0a6; --card: #202329; --line: #3c4043; --accent: #8ab4f8; --warn-bg: #3d2c12; --warn-fg: #fdd299; --err-bg: #3c1d1d; --err-fg: #f5a5a5; --info-bg: #1c2b41; --info-fg: #aecbfa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main { max-width: 52rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1rem; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 0.25rem; }
h2 { font-size: 1.15rem; margin: 0 0 0.5rem; }
h3 { font-size: 1rem; margin: 1rem 0 0.4rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: 1rem 0; }
.notice { border-radius: 8px; padding: 0.75rem 1rem; margin: 1rem 0; font-weight: 600; }
.notice.info { background: var(--info-bg); color: var(--info-fg); }
.notice.warn { background: var(--warn-bg); color: var(--warn-fg); }
.notice.error { background: var(--err-bg); color: var(--err-fg); }
.hint { color: var(--muted); font-size: 0.9rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
form { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: end; margin: 0.5rem 0; }
label { display: flex; flex-direction: column; font-size: 0.85rem; color: var(--muted); }
input { font: inherit; padding: 0.3rem 0.5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
input[type=number] { width: 6rem; }
button { font: inherit; padding: 0.35rem 0.9rem; border: 1px solid var(--accent); border-radius: 6px; background: var(--accent); color: var(--card); cursor: pointer; }
button[disabled], body[aria-busy=true] button { opacity: 0.6; cursor: progress; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; }
ul { margin: 0.25rem 0; padding-left: 1.25rem; }
#servers li { font-weight: 600; }
.sequence { color: var(--muted); font-size: 0.85rem; overflow-wrap: anywhere; }
code { font-size: 0.85rem; overflow-wrap: anywhere; }
`;
