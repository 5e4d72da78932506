# Ping-pong: 200K messages between two asyncio tasks, each waiting for the other.
import asyncio


async def main():
    n = 100000
    to_ponger = asyncio.Queue()
    to_main = asyncio.Queue()

    async def ponger():
        for _ in range(n):
            m = await to_ponger.get()
            await to_main.put(m + 1)

    task = asyncio.create_task(ponger())
    total = 0
    for i in range(n):
        await to_ponger.put(i)
        total += await to_main.get()
    await task
    return total


print(asyncio.run(main()))
