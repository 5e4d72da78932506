# 10M iterations of integer arithmetic.
#
# Written with `for i in range(...)`, the idiomatic Python loop. A `while` loop
# here would be markedly slower on CPython 3.11 for a reason unrelated to the
# work: 3.11 only warms up (specializes) a function's bytecode on a plain
# backward jump, and `while` compiles to a conditional one, so a `while` loop in
# a function called once runs unspecialized (python/cpython#93554, fixed in
# 3.12). Turn's twin uses `while` because Turn's `for i in range(n)` builds the
# whole list first; both iterate i = 0 .. 9,999,999.
def main():
    total = 0
    for i in range(10000000):
        total = total + i * 2 % 7
    return total


print(main())
