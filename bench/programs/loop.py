def main():
    i = 0
    total = 0
    while i < 10000000:
        total = total + i * 2 % 7
        i = i + 1
    return total
print(main())
