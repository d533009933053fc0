#!/usr/bin/env bash
# check-layers.sh - the layer rules of docs/architecture.md, checked.
#
#   scripts/check-layers.sh [ROOT]     (ROOT: the repository; default: the
#                                       one this script lives in)
#
# Reads every #include of the C sources and headers under io/, kernels/,
# models/, engine/, tests/ and bench/ and checks it against the table below.
# Prints one line per violation (file:line, the include, the layer, the rule)
# and exits 1; otherwise prints a one-line summary and exits 0.  Needs only
# bash, find, sort and awk.  Registered as the ctest test check_layers.
#
# How an include is judged:
#  * "x.h" (quoted) is a project header.  A plain name is found by its
#    basename (header names are unique in the tree; a duplicate is reported);
#    a name with a path ("ref/x.h") is resolved from the including file's
#    folder.  One that resolves to no header of the tree: "unknown header".
#    Its layer is the row whose folders hold it; the includer's row must
#    name that layer under "may include".  A header in an internal/ folder
#    is private to its own layer, whatever "may include" says.
#  * <x.h> (angle) is a system header or a third-party library.  The
#    "system" column says which system headers a layer may use:
#      c       the C library (ISO C11/C17 headers) and the compiler's own
#              intrinsics headers (<emmintrin.h>, ...), nothing else
#      posix   c + the POSIX headers (<unistd.h>, <pthread.h>, <sys/stat.h>, ...)
#      system  posix + Linux/glibc headers (<getopt.h>, <endian.h>,
#              <linux/...>, any <sys/...>, ...)
#    Anything else must match the layer's "third-party" column (shell globs).
#  * models/*.c must read batch columns through ms_col(): direct access
#    (b->col[...]) is a violation (undeclared columns would go unnoticed).
#  * tests/ and bench/ may include anything, except another layer's
#    internal/ header, which needs a line in ALLOW_INTERNAL below.
#  * A C file under io/, kernels/, models/ or engine/ in a folder that no
#    row lists is a violation: a new folder needs a row (and a line in
#    docs/architecture.md).
set -euo pipefail

# --------------------------------------------------------------------------
# The rules: one row per layer, bottom up.  Keep in step with the table of
# docs/architecture.md.
#   layer | folders (the files directly in each) | may include project headers of | system | third-party <headers>
# --------------------------------------------------------------------------
RULES='
io/common      | io/common                               | io/common                                                                     | posix  | -
kernels        | kernels kernels/ref kernels/fast kernels/x86 kernels/internal | kernels                                                                 | c      | -
io             | io io/internal                          | io kernels io/common                                                          | system | hdf5.h H5*.h csv.h lz4.h xxhash.h omp.h
io/import      | io/import io/import/internal            | io/import io io/common                                                        | system | csv.h xxhash.h omp.h
io/synth       | io/synth io/synth/internal              | io/synth io io/common                                                         | system | omp.h
models         | models                                  | models kernels io io/common                                                   | system | -
engine/shuffle | engine/shuffle engine/shuffle/internal  | engine/shuffle io/common                                                      | system | omp.h xxhash.h
engine/dist    | engine/dist                             | engine/dist engine/shuffle io/common                                          | system | mpi.h
engine         | engine                                  | engine models kernels io io/common                                            | system | hwloc.h libconfig.h cblas.h xxhash.h omp.h
engine/sweep   | engine/sweep engine/sweep/internal      | engine/sweep engine engine/shuffle engine/dist models kernels io io/common                | system | jansson.h lz4.h omp.h xxhash.h
engine/check   | engine/check                            | engine/check engine models kernels io io/common                                | system | jansson.h microhttpd.h
engine/cli     | engine/cli                              | engine/cli engine/sweep engine/check engine/dist engine models kernels io io/import io/synth io/common | system | jansson.h
'

# Tests (and bench programs) that may include another layer's internal/
# header:   file | header
ALLOW_INTERNAL='
tests/test_codec.c | io/internal/ms_h5util.h
tests/test_refs_pack.c | io/internal/ms_refs_pack.h
'

# The system headers of each class (shell globs).
C_HEADERS='assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h
limits.h locale.h math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h
stdbit.h stdbool.h stdckdint.h stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h
string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h
*intrin.h arm_neon.h arm_sve.h cpuid.h'
POSIX_HEADERS='aio.h arpa/inet.h cpio.h dirent.h dlfcn.h fcntl.h fmtmsg.h
fnmatch.h ftw.h glob.h grp.h iconv.h langinfo.h libgen.h monetary.h mqueue.h
ndbm.h net/if.h netdb.h netinet/in.h netinet/tcp.h nl_types.h poll.h pthread.h
pwd.h regex.h sched.h search.h semaphore.h spawn.h strings.h syslog.h tar.h
termios.h trace.h ulimit.h unistd.h utime.h utmpx.h wordexp.h
sys/ipc.h sys/mman.h sys/msg.h sys/resource.h sys/select.h sys/sem.h sys/shm.h
sys/socket.h sys/stat.h sys/statvfs.h sys/time.h sys/times.h sys/types.h
sys/uio.h sys/un.h sys/utsname.h sys/wait.h'
LINUX_HEADERS='getopt.h endian.h byteswap.h malloc.h alloca.h features.h
execinfo.h err.h error.h link.h mntent.h paths.h sys/* linux/* asm/*
bits/* netinet/* net/*'

# --------------------------------------------------------------------------
root=${1:-"$(dirname "${BASH_SOURCE[0]}")/.."}
cd "$root" || { echo "check-layers: cannot enter $root" >&2; exit 2; }

roots=()
for d in io kernels models engine tests bench; do
    [[ -d $d ]] && roots+=("$d")
done
if ((${#roots[@]} == 0)); then
    echo "check-layers: no io/, kernels/, models/, engine/, tests/ or bench/ under $(pwd)" >&2
    exit 2
fi

# Every C source and header, node_modules and build trees left out.
files=$(find "${roots[@]}" \( -name node_modules -o -name 'build*' -o -name '.*' \) -prune \
        -o -type f \( -name '*.c' -o -name '*.h' \) -print | LC_ALL=C sort)

export RULES ALLOW_INTERNAL C_HEADERS POSIX_HEADERS LINUX_HEADERS
printf '%s\n' "$files" | awk '
function trim(s) { sub(/^[ \t\r\n]+/, "", s); sub(/[ \t\r\n]+$/, "", s); return s }
function glob2re(g,   r) {
    r = g
    gsub(/\./, "\\.", r); gsub(/\+/, "\\+", r); gsub(/\*/, ".*", r)
    return "^" r "$"
}
# the globs of a list, as one alternation regex
function globs2re(list,   n, a, i, r) {
    n = split(list, a, /[ \t\n]+/); r = ""
    for (i = 1; i <= n; i++) if (a[i] != "" && a[i] != "-") r = r (r == "" ? "" : "|") "(" glob2re(a[i]) ")"
    return r == "" ? "^$" : r
}
function dirname(p) { if (p !~ /\//) return "."; sub(/\/[^\/]*$/, "", p); return p }
function basename(p) { sub(/^.*\//, "", p); return p }
# "a/b/../c/./d.h" -> "a/c/d.h"; "" if it climbs out of the root
function normalize(p,   n, a, i, k, out) {
    n = split(p, a, "/"); k = 0
    for (i = 1; i <= n; i++) {
        if (a[i] == "" || a[i] == ".") continue
        if (a[i] == "..") { if (k == 0) return ""; k--; continue }
        st[++k] = a[i]
    }
    out = ""
    for (i = 1; i <= k; i++) out = out (i > 1 ? "/" : "") st[i]
    return out
}
# the layer that holds path p ("tests", "bench", a row of RULES, or "")
function layer_of(p,   d) {
    d = dirname(p)
    if (d == "tests" || d ~ /^tests\//) return "tests"
    if (d == "bench" || d ~ /^bench\//) return "bench"
    return (d in folder_layer) ? folder_layer[d] : ""
}
function is_internal(p) { return ("/" dirname(p) "/") ~ /\/internal\// }
function report(msg) { print msg; nviol++ }
function syslist(L) {
    return sysclass[L] == "c" ? "the C library only" : \
           sysclass[L] == "posix" ? "the C library and POSIX only" : "C/POSIX/Linux system headers"
}

BEGIN {
    # the rule table
    nrows = split(ENVIRON["RULES"], rows, "\n")
    for (r = 1; r <= nrows; r++) {
        if (trim(rows[r]) == "") continue
        if (split(rows[r], col, "|") != 5) { print "check-layers: bad rule row: " rows[r] > "/dev/stderr"; bad = 1; exit 2 }
        L = trim(col[1]); layers[L] = 1
        n = split(trim(col[2]), a, /[ \t]+/)
        for (i = 1; i <= n; i++) folder_layer[a[i]] = L
        n = split(trim(col[3]), a, /[ \t]+/)
        mayinc_text[L] = trim(col[3])
        for (i = 1; i <= n; i++) mayinc[L, a[i]] = 1
        sysclass[L] = trim(col[4])
        if (sysclass[L] != "c" && sysclass[L] != "posix" && sysclass[L] != "system") {
            print "check-layers: bad system class in row: " rows[r] > "/dev/stderr"; bad = 1; exit 2
        }
        third_text[L] = trim(col[5]); third_re[L] = globs2re(trim(col[5]))
    }
    n = split(ENVIRON["ALLOW_INTERNAL"], rows, "\n")
    for (r = 1; r <= n; r++) {
        if (trim(rows[r]) == "") continue
        split(rows[r], col, "|"); allow[trim(col[1]) SUBSEP trim(col[2])] = 1
    }
    re_c = globs2re(ENVIRON["C_HEADERS"])
    re_posix = globs2re(ENVIRON["POSIX_HEADERS"])
    re_linux = globs2re(ENVIRON["LINUX_HEADERS"])
}

# the list of files, first: index the headers by basename
FILENAME == "-" {
    if ($0 == "") next
    nf_all++; file[nf_all] = $0; exists[$0] = 1
    if ($0 ~ /\.h$/) {
        b = basename($0)
        if (b in hdr) dup[b] = dup[b] " " $0; else hdr[b] = $0
    }
    next
}

END {
    if (bad) exit 2
    for (b in dup) report(hdr[b] ": header name \"" b "\" also used by" dup[b] " (rule: header names are unique across the tree)")
    for (fi = 1; fi <= nf_all; fi++) check_file(file[fi])
    if (nviol > 0) {
        printf "check-layers: %d files, %d includes, %d violation%s\n", nfiles, nincl, nviol, (nviol == 1 ? "" : "s")
        exit 1
    }
    printf "check-layers: %d files, %d includes, all within the rules\n", nfiles, nincl
    exit 0
}

# "" if file F of layer L may include project header P (as "name"), else
# what is wrong
function verdict(F, L, special, name, P,   HL) {
    HL = layer_of(P)
    if (special) {
        if (is_internal(P) && HL != L && !((F SUBSEP P) in allow))
            return "#include \"" name "\" (" P "): " L " includes an internal/ header of layer " HL " (rule: only allow-listed tests may, see ALLOW_INTERNAL in scripts/check-layers.sh)"
        return ""
    }
    if (HL == "" || !((L SUBSEP HL) in mayinc))
        return "#include \"" name "\" (" P "): layer " L " may not include " (HL == "" ? dirname(P) "/" : "layer " HL) " (rule: " L " may include " mayinc_text[L] ")"
    if (is_internal(P) && HL != L)
        return "#include \"" name "\" (" P "): layer " L " may not include an internal/ header of layer " HL " (rule: internal/ headers are private to their layer)"
    return ""
}

function check_file(F,   L, special, line, lno, code, nostr, incl, P, name, in_c, i, n, cand, msg, ch, nx, out, outns, state) {
    L = layer_of(F)
    special = (L == "tests" || L == "bench")
    nfiles++
    if (L == "") {
        report(F ": folder " dirname(F) "/ belongs to no layer (rule: add a row for it to scripts/check-layers.sh and docs/architecture.md)")
        return
    }
    lno = 0; in_c = 0
    while ((getline line < F) > 0) {
        lno++
        # strip comments (keeping strings) -> code; also blank strings -> nostr
        out = ""; outns = ""; state = (in_c ? "comment" : "code")
        for (i = 1; i <= length(line); i++) {
            ch = substr(line, i, 1); nx = substr(line, i + 1, 1)
            if (state == "comment") {
                if (ch == "*" && nx == "/") { state = "code"; i++; out = out " "; outns = outns " " }
                continue
            }
            if (state == "str" || state == "chr") {
                out = out ch; outns = outns " "
                if (ch == "\\") { out = out nx; outns = outns " "; i++; continue }
                if ((state == "str" && ch == "\"") || (state == "chr" && ch == "\047")) state = "code"
                continue
            }
            if (ch == "/" && nx == "*") { state = "comment"; i++; continue }
            if (ch == "/" && nx == "/") break
            if (ch == "\"") state = "str"
            else if (ch == "\047") state = "chr"
            out = out ch; outns = outns (state == "code" ? ch : " ")
        }
        in_c = (state == "comment")
        code = out; nostr = outns

        if (L == "models" && F ~ /\.c$/ && nostr ~ /(->|\.)[ \t]*col[ \t]*\[/)
            report(F ":" lno ": " trim(line) ": layer models reads a batch column directly (rule: models read columns through ms_col())")

        if (code !~ /^[ \t]*#[ \t]*include/) continue
        nincl++
        incl = code; sub(/^[ \t]*#[ \t]*include[ \t]*/, "", incl); incl = trim(incl)

        if (incl ~ /^"[^"]*"/) {
            name = substr(incl, 2); sub(/".*$/, "", name)
            if (name ~ /\//) {
                P = normalize(dirname(F) "/" name)
                if (!(P in exists)) P = ""
            } else if ((dirname(F) "/" name) in exists) {
                P = dirname(F) "/" name
            } else {
                # a duplicated name (reported above) resolves to any holder
                # the layer may include, so it causes no further reports
                P = (name in hdr) ? hdr[name] : ""
                if (name in dup) {
                    n = split(hdr[name] dup[name], cand, " ")
                    for (i = 1; i <= n; i++) if (verdict(F, L, special, name, cand[i]) == "") { P = cand[i]; break }
                }
            }
            if (P == "") {
                if (!special) report(F ":" lno ": #include \"" name "\": unknown header (rule: layer " L " may include only headers of the tree)")
                continue
            }
            msg = verdict(F, L, special, name, P)
            if (msg != "") report(F ":" lno ": " msg)
            continue
        }
        if (incl ~ /^<[^>]*>/) {
            if (special) continue
            name = substr(incl, 2); sub(/>.*$/, "", name)
            if (name in hdr && name !~ re_c && name !~ re_posix && name !~ re_linux) {
                report(F ":" lno ": #include <" name ">: layer " L " includes project header " hdr[name] " with <> (rule: project headers are included with quotes)")
                continue
            }
            if (name ~ re_c) continue
            if (sysclass[L] != "c" && name ~ re_posix) continue
            if (sysclass[L] == "system" && name ~ re_linux) continue
            if (name ~ third_re[L]) continue
            report(F ":" lno ": #include <" name ">: not allowed in layer " L " (rule: " L " may use " syslist(L) \
                   (third_text[L] == "-" ? ", no third-party library" : " and third-party " third_text[L]) ")")
            continue
        }
        report(F ":" lno ": " trim(line) ": include that cannot be checked (rule: write #include \"x.h\" or #include <x.h>)")
    }
    close(F)
}
' -
