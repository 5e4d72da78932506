# Build a 100,000-character string one short piece at a time.
def main():
    s = ""
    for _ in range(100000):
        s += "x"
    return len(s)


print(main())
