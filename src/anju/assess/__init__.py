"""The monthly community assessment (零发案 / 控案先进) and its bulletin 《小区治安月通报》: input imports, the use case
that assembles a month from the lake and the inputs, and the Word and Excel renderers."""
