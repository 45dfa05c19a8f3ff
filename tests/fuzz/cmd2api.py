#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Seed inputs for fuzz_api from the golden command files (tests/golden/*.cmd).

Each command of a `softiommu run` script becomes the fuzz_api verb that
makes the same kind of call (iommu-create -> op_iommu_create, ioas-map ->
op_ioas_map, ...), in the script's order; the verb's argument bytes come
from the command's values (numbers as they are, names hashed), so handles
named alike map to the same slot.  The result is not the same program (the
two languages differ), but it has the golden files' call orders, which
random mutation finds only slowly.  The verb numbers are read from the ops[]
table of fuzz_api.c, so the converter follows the fuzzer.

Usage: cmd2api.py OUTDIR FILE.cmd...
"""
import os
import re
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# CLI verb -> fuzz_api op function (verbs without a counterpart are skipped)
VERBS = {
    'iommu-create': 'op_iommu_create', 'iommu-destroy': 'op_iommu_destroy',
    'mem-add': 'op_region_add', 'mem-revoke': 'op_region_revoke',
    'mem-region-destroy': 'op_region_destroy', 'mem-read': 'op_mem_rw', 'mem-write': 'op_mem_rw',
    'dev-create': 'op_dev_create', 'dev-destroy': 'op_dev_destroy',
    'domain-create': 'op_dom_create', 'domain-destroy': 'op_dom_destroy',
    'attach': 'op_attach', 'replace': 'op_attach', 'detach': 'op_attach',
    'domain-map': 'op_map', 'domain-unmap': 'op_unmap', 'domain-flush': 'op_flush',
    'domain-dma-map': 'op_dma_map', 'domain-dma-unmap': 'op_dma_unmap',
    'translate': 'op_translate', 'dma-read': 'op_dma', 'dma-write': 'op_dma',
    'dma-read-sg': 'op_dma', 'dma-write-sg': 'op_dma',
    'iopf-create': 'op_iopf_create', 'iopf-enable': 'op_iopf_enable',
    'iopf-disable': 'op_iopf_disable', 'iopf-report': 'op_report', 'iopf-process': 'op_process',
    'iopf-respond': 'op_respond', 'iopf-answer': 'op_group_respond', 'iopf-drain': 'op_drain',
    'iopf-clear-overflow': 'op_clear_overflow', 'iopf-handler': 'op_set_handler',
    'domain-fault-handler': 'op_set_handler', 'iopf-handler-clear': 'op_clear_handler',
    'fq-create': 'op_fq_create', 'fq-read': 'op_fq_read', 'fq-write': 'op_fq_write',
    'fq-close': 'op_fq_close',
    'ioas-create': 'op_ioas_create', 'ioas-destroy': 'op_ioas_create', 'ioas-map': 'op_ioas_map',
    'ioas-unmap': 'op_ioas_unmap', 'ioas-copy': 'op_ioas_copy', 'ioas-reserve': 'op_ioas_reserve',
    'ioas-unreserve': 'op_ioas_reserve', 'ioas-iova-ranges': 'op_ioas_ranges',
    'ioas-domain-create': 'op_ioas_domain', 'ioas-attach': 'op_attach', 'ioas-detach': 'op_attach',
    'ioas-domain-free': 'op_dom_destroy',
    'access-create': 'op_acc_create', 'access-destroy': 'op_acc_destroy',
    'access-replace': 'op_acc_destroy', 'access-pin': 'op_pin', 'access-unpin': 'op_unpin',
    'access-rw': 'op_acc_rw',
    'mm-create': 'op_mm_create', 'mm-destroy': 'op_mm_destroy', 'mm-mmap': 'op_mmap',
    'mm-munmap': 'op_munmap', 'mm-mprotect': 'op_munmap', 'mm-madvise': 'op_munmap',
    'mm-split': 'op_munmap', 'mm-fault': 'op_mm_touch', 'mm-read': 'op_mm_touch',
    'mm-write': 'op_mm_touch', 'mm-dma-read': 'op_dma', 'mm-dma-write': 'op_dma',
    'mirror-create': 'op_mirror_create', 'mirror-destroy': 'op_dom_destroy',
    'mirror-fault': 'op_mirror_fault', 'mirror-attach': 'op_attach', 'mirror-detach': 'op_attach',
    'sva-bind': 'op_sva_bind', 'sva-unbind': 'op_sva_bind',
}


def op_table():
    """fuzz_api.c's ops[] table: the op function names in order, and the
    argument bytes each reads (its fz_u8() calls)."""
    src = open(os.path.join(HERE, 'fuzz_api.c')).read()
    body = re.search(r'static op_fn \*const ops\[\] = \{(.*?)\};', src, re.S).group(1)
    body = re.sub(r'/\*.*?\*/', '', body, flags=re.S)
    names = [n.strip() for n in body.split(',') if n.strip()]
    nargs = {}
    for n in set(names):
        m = re.search(r'static void ' + n + r'\(struct fz_in \*in\)\n\{(.*?)\n\}\n', src, re.S)
        nargs[n] = m.group(1).count('fz_u8(in)') if m else 0
    return names, nargs


def value_byte(v):
    m = re.fullmatch(r'(0x[0-9a-fA-F]+|\d+)([KMG]?)', v)
    if m:
        n = int(m.group(1), 16 if m.group(1).startswith('0x') else 10) * {'': 1, 'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}[m.group(2)]
        while n > 255 and n % 4096 == 0:
            n //= 4096		# sizes and addresses as page counts
        return n & 0xff
    return zlib.crc32(v.encode()) & 0xff


def convert(path, table):
    ops, nargs = table
    out = bytearray()
    for line in open(path, errors='replace'):
        words = line.split()
        if not words or words[0].startswith('#') or words[0] not in VERBS:
            continue
        fn = VERBS[words[0]]
        if fn not in ops:
            continue
        out.append(ops.index(fn))
        vals = [w.split('=', 1)[1] for w in words[1:] if '=' in w]
        args = [value_byte(v) for v in vals] + [zlib.crc32(words[0].encode()) & 0xff]
        n = nargs[fn]
        out.extend(args[:n] + [0] * (n - len(args[:n])))
    return bytes(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ops = op_table()
    os.makedirs(sys.argv[1], exist_ok=True)
    for path in sys.argv[2:]:
        data = convert(path, ops)
        if data:
            name = 'golden-' + os.path.basename(path).rsplit('.', 1)[0]
            with open(os.path.join(sys.argv[1], name), 'wb') as f:
                f.write(data[:4096])


if __name__ == '__main__':
    main()
