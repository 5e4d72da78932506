# Scatter/gather: 100K asyncio tasks, each doubling its input; gather the results.
import asyncio


async def double(x):
    return x * 2


async def main():
    results = await asyncio.gather(*(double(x) for x in range(100000)))
    return sum(results)


print(asyncio.run(main()))
