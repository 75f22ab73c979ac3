/**
 * @file A float32 `.npy` file of known shape [rows, width], filled by positional writes of row ranges.
 *
 * The header is written first and the file is extended to its final size (sparse on most filesystems), so ranges
 * can be written in any order and memory never holds more than the range being written.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import { encodeNpyHeader } from './npy';

export class NpyRowWriter {
  private constructor(
    private readonly handle: fs.FileHandle,
    readonly file: string,
    readonly rows: number,
    readonly width: number,
    private readonly dataOffset: number,
  ) {}

  static async create(file: string, rows: number, width: number): Promise<NpyRowWriter> {
    // Float32Array bytes are written as they are in memory.
    if (os.endianness() !== 'LE') throw new Error('writing .npy float32 data needs a little-endian host');
    const header = encodeNpyHeader('<f4', [rows, width]);
    const handle = await fs.open(file, 'wx');
    try {
      await handle.write(header, 0, header.length, 0);
      await handle.truncate(header.length + rows * width * 4);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new NpyRowWriter(handle, file, rows, width, header.length);
  }

  /** Write `data` (rowCount × width values, row-major) as rows [firstRow, firstRow + rowCount). */
  async writeRows(firstRow: number, data: Float32Array): Promise<void> {
    const rowCount = data.length / this.width;
    if (!Number.isInteger(rowCount) || firstRow < 0 || firstRow + rowCount > this.rows) {
      throw new Error(`${this.file}: rows ${firstRow}…${firstRow + rowCount} do not fit [${this.rows}, ${this.width}]`);
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, written, bytes.length - written, this.dataOffset + firstRow * this.width * 4 + written);
      written += bytesWritten;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
