"""Stream a checkpoint into a GGUF file, one bounded chunk at a time.

Peak memory does not depend on model size: metadata goes through gguf's GGUFWriter,
then each tensor's bytes are copied (same dtype: ``copy_file_range``, no user-space
buffer at all) or converted a few MiB of rows at a time.
"""

from __future__ import annotations

import math
import os
from collections import deque
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import gguf
import numpy as np
from gguf import GGMLQuantizationType as T

from gazal_convert.architectures import OutputTensor
from gazal_convert.errors import ConvertError
from gazal_convert.progress import Progress
from gazal_convert.quants import QuantType

SRC_TYPES = {"BF16": T.BF16, "F16": T.F16, "F32": T.F32}
CHUNK_ELEMENTS = 2 * 1024 * 1024  # 8 MiB of f32 per conversion step
KERNEL_COPY_CHUNK = 512 * 1024 * 1024  # copy_file_range: no user-space memory at all
COPY_CHUNK = 16 * 1024 * 1024


@dataclass(frozen=True)
class PlannedTensor:
    out: OutputTensor
    qtype: T
    nbytes: int
    # Quantized from the checkpoint: first rounded through the type the two-step path's
    # intermediate GGUF would hold (bf16/f16), so the result matches llama.cpp's from it.
    via: T | None = None

    @property
    def name(self) -> str:
        return self.out.name


def plan_tensors(tensors: list[OutputTensor], out_type: QuantType) -> list[PlannedTensor]:
    """Choose each tensor's GGUF type for a directly written output type."""
    assert out_type.direct and out_type.tensor_type is not None
    planned = []
    for t in tensors:
        qtype = out_type.tensor_type
        if t.keep_f32:
            qtype = T.F32
        elif qtype == T.Q8_0 and t.source.shape[-1] % gguf.GGML_QUANT_SIZES[T.Q8_0][0] != 0:
            qtype = T.F16  # rows that are not whole Q8_0 blocks, as llama.cpp's converter does
        planned.append(PlannedTensor(t, qtype, tensor_nbytes(t.source.shape, qtype)))
    return planned


def plan_streamed(tensors: list[OutputTensor], quant: QuantType, inter: QuantType, n_layers: int, n_gqa: int = 1,
                  has_imatrix: bool = False) -> list[PlannedTensor]:
    """Each tensor's type for a mix quantized from the checkpoint: the type llama.cpp's
    quantizer would give it in the intermediate GGUF of type `inter` (direct_quant.py)."""
    from gazal_convert.direct_quant import tensor_types

    base = {p.name: p.qtype for p in plan_tensors(tensors, inter)}
    types = tensor_types({t.name: t.source.shape for t in tensors}, quant.ftype, n_layers, base, n_gqa, has_imatrix)
    return [PlannedTensor(t, types[t.name], tensor_nbytes(t.source.shape, types[t.name]),
                          via=base[t.name] if types[t.name] != base[t.name] else None) for t in tensors]


def tensor_nbytes(shape: tuple[int, ...], qtype: T) -> int:
    block, type_size = gguf.GGML_QUANT_SIZES[qtype]
    return math.prod(shape) // block * type_size


def data_bytes(planned: list[PlannedTensor], alignment: int = gguf.GGUF_DEFAULT_ALIGNMENT) -> int:
    return sum(gguf.GGUFWriter.ggml_pad(p.nbytes, alignment) for p in planned)


def write_gguf(
    path: Path,
    arch: str,
    planned: list[PlannedTensor],
    add_metadata: Callable[[gguf.GGUFWriter], None],
    progress: Progress,
    threads: int = 1,
    imatrix: dict | None = None,
) -> None:
    """Write header, metadata and tensor infos with GGUFWriter, then stream the data.
    `imatrix`: per-column importance by tensor name (llama-imatrix), for quantized tensors."""
    writer = gguf.GGUFWriter(path, arch)
    add_metadata(writer)
    for p in planned:
        # Shapes are given in elements (numpy order); GGUFWriter reverses them on disk.
        writer.add_tensor_info(p.name, p.out.source.shape, np.dtype(np.float32), p.nbytes, raw_dtype=p.qtype)
    alignment = writer.data_alignment
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        assert writer.fout is not None
        writer.fout[0].flush()
        data_start = writer.fout[0].tell()
    finally:
        writer.close()

    total_in = sum(p.out.source.nbytes for p in planned)
    progress.start("Converting", total_in, len(planned))
    # numpy releases the GIL while converting, so chunks convert on all cores.
    with open(path, "r+b", buffering=0) as out, ThreadPoolExecutor(max(1, threads)) as pool:
        out.seek(data_start)
        pos = data_start
        for p in planned:
            pad = gguf.GGUFWriter.ggml_pad(pos, alignment) - pos
            if pad:
                _write_all(out.fileno(), bytes(pad))
                pos += pad
            _write_tensor(out.fileno(), p, progress, pool, max(1, threads), _importance(imatrix, p))
            pos += p.nbytes
            progress.advance(0, items=1, label=p.name)
        os.ftruncate(out.fileno(), pos)
    progress.finish()


def _importance(imatrix: dict | None, p: PlannedTensor):
    """The importance vector for a quantized tensor, checked as llama.cpp checks it."""
    if not imatrix or p.qtype in (T.F32, T.F16, T.BF16) or p.name not in imatrix:
        return None
    values = imatrix[p.name]
    if len(values) != p.out.source.shape[-1]:
        if p.name == "token_embd.weight":  # llama.cpp ignores a mismatch here
            return None
        raise ConvertError(f"The importance matrix has {len(values)} values for {p.name}, which has "
                           f"{p.out.source.shape[-1]} columns: was it made for another model?")
    return values


def _write_tensor(out_fd: int, p: PlannedTensor, progress: Progress, pool: Executor, threads: int,
                  imatrix=None) -> None:
    src = p.out.source
    src_type = SRC_TYPES[src.dtype]
    with open(src.path, "rb", buffering=0) as fin:
        if src_type == p.qtype:
            _copy_range(fin, out_fd, src.offset, src.nbytes, progress)
            return
        row = src.shape[-1]
        n_rows = src.n_elements // row
        rows_per_chunk = max(1, CHUNK_ELEMENTS // row)
        itemsize = src.nbytes // src.n_elements

        def convert(raw: bytearray, nr: int) -> np.ndarray:
            data = _to_f32(np.frombuffer(raw, dtype=np.uint8), src.dtype).reshape(nr, row)
            if p.via is not None and p.via != src_type:  # the intermediate's rounding, as the two-step path
                data = _to_f32(np.asarray(_from_f32(data, p.via)).view(np.uint8), p.via.name).reshape(nr, row)
            return _from_f32(data, p.qtype, imatrix)

        # At most threads + 1 chunks in flight: memory stays bounded, output stays in order.
        pending: deque[tuple[Future, int]] = deque()
        for r0 in range(0, n_rows, rows_per_chunk):
            nr = min(rows_per_chunk, n_rows - r0)
            raw = bytearray(nr * row * itemsize)
            _read_exact(fin, src.offset + r0 * row * itemsize, memoryview(raw))
            pending.append((pool.submit(convert, raw, nr), len(raw)))
            if len(pending) > threads:
                _drain_one(pending, out_fd, progress)
        while pending:
            _drain_one(pending, out_fd, progress)


def _drain_one(pending: deque, out_fd: int, progress: Progress) -> None:
    fut, nbytes_in = pending.popleft()
    _write_all(out_fd, memoryview(fut.result()).cast("B"))
    progress.advance(nbytes_in)


def _to_f32(raw: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "BF16":
        return (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
    if dtype == "F16":
        return raw.view("<f2").astype(np.float32)
    return raw.view("<f4")


def _from_f32(data: np.ndarray, qtype: T, imatrix=None) -> np.ndarray:
    if qtype == T.F32:
        return np.ascontiguousarray(data, dtype=np.float32)
    if qtype == T.F16:
        return data.astype(np.float16)
    if qtype == T.BF16:
        return np.ascontiguousarray(gguf.quants.quantize(data, qtype))
    from gazal_convert.direct_quant import quantize_rows  # ggml's own quantization, as llama.cpp's

    return quantize_rows(data, qtype, imatrix)


def _read_exact(fin, offset: int, view: memoryview) -> None:
    fin.seek(offset)
    got = 0
    while got < len(view):
        n = fin.readinto(view[got:])
        if not n:
            raise _source_changed(fin.name)
        got += n


def _source_changed(name: str) -> ConvertError:
    return ConvertError(f"{name} ended early: was it changed or truncated during the conversion? Nothing was kept.")


def _write_all(fd: int, data) -> None:
    mv = memoryview(data)
    while mv:
        n = os.write(fd, mv)
        mv = mv[n:]


def _copy_range(fin, dst_fd: int, offset: int, count: int, progress: Progress) -> None:
    """Copy bytes file-to-file in the kernel where it can, else through one buffer."""
    src_fd = fin.fileno()
    done = 0
    if hasattr(os, "copy_file_range"):
        try:
            while done < count:
                n = os.copy_file_range(src_fd, dst_fd, min(KERNEL_COPY_CHUNK, count - done), offset + done)
                if n == 0:
                    raise _source_changed(fin.name)
                done += n
                progress.advance(n)
            return
        except OSError as exc:
            # EXDEV/EINVAL/ENOSYS: not supported here; fall back. Other errors are real.
            if exc.errno not in (18, 22, 38, 95) or done:
                raise
    while done < count:
        chunk = os.pread(src_fd, min(COPY_CHUNK, count - done), offset + done)
        if not chunk:
            raise _source_changed(fin.name)
        _write_all(dst_fd, chunk)
        done += len(chunk)
        progress.advance(len(chunk))
