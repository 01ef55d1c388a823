// Tile edge of matmul.cu; the launch uses TILE x TILE threads per block.
#pragma once
#define TILE 16
