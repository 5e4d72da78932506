# 1M calls of a closure that captures a variable from its defining scope.
def main():
    k = 3

    def add(x):
        return x + k

    total = 0
    for _ in range(1000000):
        total = add(total)
    return total


print(main())
