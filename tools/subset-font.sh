#!/usr/bin/env bash
# tools/subset-font.sh — regenerate the bundled Chinese UI fonts.
#
# Writes, from Noto Sans CJK SC (SIL OFL 1.1) as shipped by Debian:
#   ui/fonts/NotoSansSC-Regular.otf   OpenType/CFF subset, weight 400
#   ui/fonts/NotoSansSC-Bold.otf      OpenType/CFF subset, weight 700
#   ui/fonts/charset.txt              the characters kept, for review and diffs
# Both fonts are renamed to the family "Noto Sans SC Kiosk" (PostScript names
# NotoSansSCKiosk-Regular / NotoSansSCKiosk-Bold), so they never collide with
# a full "Noto Sans CJK SC" installed on the machine. Use that family name in
# Slint: `default-font-family: "Noto Sans SC Kiosk";`.
#
# Character set (the union of):
#   * every valid 2-byte GB2312 code (levels 1+2 hanzi plus its symbols),
#     enumerated by decoding 0xA1A1..0xF7FE with Python's 'gb2312' codec;
#   * every character in kiosk-data/sample/**/* (JSON strings decoded) and in
#     the Hebei corpus items.jsonl (every string field: titles, bodies, ...);
#   * ASCII printable, Latin-1 U+00A0-00FF, general punctuation U+2010-206F,
#     arrows U+2190-21FF, enclosed alphanumerics U+2460-24FF, geometric shapes
#     U+25A0-25FF, CJK symbols & punctuation U+3000-303F, full-width forms
#     U+FF01-FF5E, full-width currency U+FFE0-FFE6, and ℃ № ×÷±;
#   minus control, private-use and unassigned code points. Code points the
#   source font has no glyph for are simply skipped (and reported).
# Layout: all OpenType features kept (--layout-features='*'), hinting dropped,
# all name IDs kept (English records), .notdef outline kept (tofu box).
#
# Needs (installs nothing itself):
#   * Debian package fonts-noto-cjk (built with 1:20220127+repack1-1):
#       apt-get install -y fonts-noto-cjk
#   * python3 with fontTools (built with 4.68.0):  pip install fonttools
#   * the corpus: $KIOSK_CORPUS, default ../shared/corpora/hebei-gov/items/
#     items.jsonl relative to the repository root.
# Optional env: NOTO_CJK_DIR (default /usr/share/fonts/opentype/noto).
#
# Usage: tools/subset-font.sh        (from any directory; about 15 seconds)
# Idempotent: same inputs give byte-identical outputs (no timestamps are
# recalculated); files are written to a temp name and moved into place.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO="$repo"
export NOTO_CJK_DIR="${NOTO_CJK_DIR:-/usr/share/fonts/opentype/noto}"
export KIOSK_CORPUS="${KIOSK_CORPUS:-$repo/../shared/corpora/hebei-gov/items/items.jsonl}"

for f in "$NOTO_CJK_DIR/NotoSansCJK-Regular.ttc" "$NOTO_CJK_DIR/NotoSansCJK-Bold.ttc"; do
  [[ -f "$f" ]] || { echo "missing $f — apt-get install -y fonts-noto-cjk" >&2; exit 1; }
done
[[ -f "$KIOSK_CORPUS" ]] || { echo "missing corpus $KIOSK_CORPUS — set KIOSK_CORPUS" >&2; exit 1; }
python3 -c 'import fontTools' 2>/dev/null || { echo "python3 lacks fontTools — pip install fonttools" >&2; exit 1; }

exec python3 - <<'PY'
import glob, json, os, sys, unicodedata
from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

repo = os.environ["REPO"]
noto = os.environ["NOTO_CJK_DIR"]
corpus = os.environ["KIOSK_CORPUS"]
out_dir = os.path.join(repo, "ui", "fonts")
os.makedirs(out_dir, exist_ok=True)

SRC_FAMILY = "Noto Sans CJK SC"
FAMILY = "Noto Sans SC Kiosk"
PS_FAMILY = "NotoSansSCKiosk"

# ---- character set -------------------------------------------------------
chars = set()
for b1 in range(0xA1, 0xF8):
    for b2 in range(0xA1, 0xFF):
        try:
            chars.add(bytes([b1, b2]).decode("gb2312"))
        except UnicodeDecodeError:
            pass

def strings(o):
    if isinstance(o, str):
        yield o
    elif isinstance(o, dict):
        for k, v in o.items():
            yield k
            yield from strings(v)
    elif isinstance(o, list):
        for v in o:
            yield from strings(v)

def add_file(path):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    chars.update(text)          # raw text (TOML, TXT, and JSON as written)
    if path.endswith((".jsonl", ".json")):
        lines = text.splitlines() if path.endswith(".jsonl") else [text]
        for line in lines:
            if line.strip():
                for s in strings(json.loads(line)):   # \uXXXX escapes decoded
                    chars.update(s)

sample = sorted(p for p in glob.glob(os.path.join(repo, "kiosk-data", "sample", "**", "*"),
                                     recursive=True) if os.path.isfile(p))
for p in sample:
    add_file(p)
add_file(corpus)

def rng(a, b):
    chars.update(chr(c) for c in range(a, b + 1))
rng(0x20, 0x7E)        # ASCII printable
rng(0xA0, 0xFF)        # Latin-1 supplement (letters, × ÷ ± · ¥ ...)
rng(0x2010, 0x206F)    # general punctuation — … “ ” ‘ ’
rng(0x2190, 0x21FF)    # arrows
rng(0x2460, 0x24FF)    # enclosed alphanumerics ① ⑴ ⒈ Ⓐ
rng(0x25A0, 0x25FF)    # geometric shapes ■ □ ▲ ○ ●
rng(0x3000, 0x303F)    # CJK symbols and punctuation 、。〔〕【】
rng(0xFF01, 0xFF5E)    # full-width ASCII forms
rng(0xFFE0, 0xFFE6)    # full-width currency ￠￡￢￣￤￥￦
chars.update("℃№×÷±")

def wanted(c):
    return unicodedata.category(c) not in ("Cc", "Co", "Cs", "Cn")
requested = sorted(ord(c) for c in chars if wanted(c))

# ---- find the SC face in each collection by its name table ----------------
def sc_index(ttc, style):
    coll = TTCollection(ttc, lazy=True)
    for i, f in enumerate(coll.fonts):
        n = f["name"]
        if n.getName(1, 3, 1, 0x409) and n.getName(1, 3, 1, 0x409).toUnicode() == SRC_FAMILY \
                and n.getName(2, 3, 1, 0x409).toUnicode() == style:
            return i
    sys.exit(f"no '{SRC_FAMILY}' {style} face in {ttc}")

def rename(font, style):
    ps = f"{PS_FAMILY}-{style}"
    full = FAMILY if style == "Regular" else f"{FAMILY} {style}"
    name = font["name"]
    version = name.getName(5, 3, 1, 0x409).toUnicode().split(";")[0].replace("Version ", "")
    for rec in list(name.names):
        if rec.nameID in (16, 17, 21, 22, 25):          # none in the source; be safe
            name.removeNames(nameID=rec.nameID)
    for pid, eid, lid in ((3, 1, 0x409), (1, 0, 0)):
        if pid == 1 and not any(r.platformID == 1 for r in name.names):
            continue
        name.setName(FAMILY, 1, pid, eid, lid)
        name.setName(style, 2, pid, eid, lid)
        name.setName(f"{version};{ps};subset of NotoSansCJKsc-{style}", 3, pid, eid, lid)
        name.setName(full, 4, pid, eid, lid)
        name.setName(ps, 6, pid, eid, lid)
    desc = name.getName(10, 3, 1, 0x409)
    note = (f"Subset of Noto Sans CJK SC {style} (Debian fonts-noto-cjk) made by "
            "tools/subset-font.sh for the kiosk UI; renamed, otherwise unmodified.")
    name.setName(note + (" " + desc.toUnicode() if desc else ""), 10, 3, 1, 0x409)
    cff = font["CFF "].cff
    old_ps = cff.fontNames[0]
    cff.fontNames[0] = ps
    top = cff[ps] if ps in cff.fontNames else cff.topDictIndex[0]
    top.FullName = full
    top.FamilyName = FAMILY
    if hasattr(top, "FDArray"):
        for fd in top.FDArray:
            if getattr(fd, "FontName", "").startswith(old_ps):
                fd.FontName = ps + fd.FontName[len(old_ps):]

results = []
for style in ("Regular", "Bold"):
    ttc = os.path.join(noto, f"NotoSansCJK-{style}.ttc")
    idx = sc_index(ttc, style)
    opts = subset.Options()
    opts.layout_features = ["*"]
    opts.hinting = False
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.font_number = idx
    font = subset.load_font(ttc, opts)
    cmap = font.getBestCmap()
    s = subset.Subsetter(opts)
    s.populate(unicodes=requested)
    s.subset(font)
    rename(font, style)
    dest = os.path.join(out_dir, f"NotoSansSC-{style}.otf")
    tmp = dest + ".tmp"
    font.save(tmp)
    font.close()
    os.replace(tmp, dest)
    missing = [c for c in requested if c not in cmap]
    results.append((dest, idx, os.path.getsize(dest), missing))

kept = [c for c in requested if c not in results[0][3]]
with open(os.path.join(out_dir, "charset.txt.tmp"), "w", encoding="utf-8") as fh:
    fh.write(f"# {len(kept)} code points kept in NotoSansSC-*.otf; "
             "generated by tools/subset-font.sh\n")
    fh.write("# spaces, format and other invisible characters are written as <U+XXXX>\n")
    shown = [chr(c) if unicodedata.category(chr(c))[0] not in "ZC" else f"<U+{c:04X}>"
             for c in kept]
    for i in range(0, len(shown), 64):
        fh.write("".join(shown[i:i + 64]) + "\n")
os.replace(os.path.join(out_dir, "charset.txt.tmp"), os.path.join(out_dir, "charset.txt"))

print(f"requested code points: {len(requested)}")
for dest, idx, size, missing in results:
    print(f"{os.path.relpath(dest, repo)}: face #{idx}, {size} bytes "
          f"({size / 1048576:.2f} MiB), {len(requested) - len(missing)} code points mapped")
    if missing:
        spans = []
        for c in missing:
            if spans and spans[-1][1] == c - 1:
                spans[-1][1] = c
            else:
                spans.append([c, c])
        print(f"  {len(missing)} not in the source font (skipped): " + " ".join(
            f"U+{a:04X}" if a == b else f"U+{a:04X}-{b:04X}" for a, b in spans))
PY
