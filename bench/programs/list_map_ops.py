# 1M list/map operations: 500k appends onto a list, then 250k dict writes and
# 250k dict reads with string keys. Returns a checksum.
def main():
    xs = []
    for i in range(500000):
        xs.append(i)
    m = {}
    for i in range(250000):
        m["k" + str(i % 1000)] = i
    total = 0
    for i in range(250000):
        total += m["k" + str(i % 1000)]
    return len(xs) + xs[499999] + len(m) + total


print(main())
